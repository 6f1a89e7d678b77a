"""Results on disk that Grid Engine never reported.

A qmaster restart can swallow the end of a job that finished meanwhile: DRMAA's wait
never returns it and the qmaster lists it as running for minutes (until the execd
restarts), so a job-level run waits and a graph-mode run's dependants stay held. The
store is the truth: a job whose result of this submission has sat in its node
directory for ``UNREPORTED`` seconds without Grid Engine reporting its end is settled
from that result.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from flowmill.backend import result_token

SWEEP_INTERVAL = 5.0
"""Seconds between two looks at the node directories of the jobs in flight."""

UNREPORTED = 10.0
"""Seconds a result may wait for its job's end to be reported (normally 1-2 s: the
worker's exit, the execd's report, the qmaster, drmaa_wait) before the store settles it."""


class UnreportedResults:
    """Remembers when each job's result was first seen, to tell an end that is
    merely late from one that was lost."""

    def __init__(self, patience: float = UNREPORTED) -> None:
        self.patience = patience
        self._seen: dict[str, float] = {}

    def due(self, jobs: Iterable[tuple[str, Path, str | None]]) -> list[str]:
        """Of these (SGE id, node directory, expected result token), the ids whose
        result has waited ``patience`` seconds; forgets ids no longer in flight."""
        now = time.monotonic()
        seen: dict[str, float] = {}
        due: list[str] = []
        for sge_id, node_dir, token in jobs:
            if token is None or result_token(node_dir) != token:
                continue
            seen[sge_id] = first = self._seen.get(sge_id, now)
            if now - first >= self.patience:
                due.append(sge_id)
        self._seen = seen
        return due
