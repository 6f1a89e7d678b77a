"""The Slurm command lines, run without a shell: transient controller errors
(slurmctld restarting, socket timeouts) are retried for ``scheduler_patience``
seconds, anything else is a :class:`SlurmError`."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Sequence

import flowmill.backend as api

TRANSIENT = re.compile(r"Socket timed out|Unable to contact slurm controller|Connection refused|"
                       r"Zero Bytes were transmitted|Resource temporarily unavailable|"
                       r"Communication connection failure", re.IGNORECASE)
UNKNOWN_IDS = "Invalid job id specified"
"""What ``squeue -j`` says when it knows none of the ids (it omits unknown ones otherwise)."""


class SlurmError(api.PluginError):
    """A Slurm command failed for a reason that retrying does not cure."""


def run(argv: Sequence[str], patience: float, *, harmless: str | None = None) -> str:
    """Run a Slurm command and return its stdout; a failure whose message contains
    ``harmless`` is an empty answer, a transient one is retried with back-off."""
    waits = api.backoff(first=0.5, most=5.0, within=patience)
    while True:
        result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return result.stdout
        if harmless is not None and harmless in result.stderr:
            return ""
        delay = next(waits, None) if TRANSIENT.search(result.stderr) else None
        if delay is None:
            raise SlurmError(f"{argv[0]} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
        time.sleep(delay)


def scancel(slurm_ids: Sequence[str], patience: float) -> None:
    """Cancel these jobs (ids Slurm no longer knows are fine)."""
    if slurm_ids:
        run(["scancel", *slurm_ids], patience, harmless=UNKNOWN_IDS)
