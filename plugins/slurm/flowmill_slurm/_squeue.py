"""One batched status query for every job of the run: ``squeue --states=all`` with
one line per array element, parsed into a :class:`JobState` per Slurm job id.
Finished jobs stay listed for the cluster's MinJobAge (300 s by default); an id
that is gone is missing from the answer and the store decides (see ``_outcome``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import _commands

FIELDS = "ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|,NodeList:"
"""The array's id and task, not ``JobID``: an array task's own JobID is a raw id of its own."""
ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
                   "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"})
"""Final states; everything else (PENDING, RUNNING, COMPLETING, SUSPENDED...) is in flight."""


@dataclass(frozen=True)
class JobState:
    state: str
    reason: str
    wait_status: int
    node: str

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def running(self) -> bool:
        return self.state in ("RUNNING", "COMPLETING") or self.ended

    def place(self, slurm_id: str) -> str:
        """Where the job runs, as the core's start report names it: its node (Slurm's
        NodeList, one node for a flowmill job) and its Slurm id."""
        return f"{self.node} (Slurm job {slurm_id})" if self.node else f"Slurm job {slurm_id}"

    @property
    def exit_status(self) -> int:
        return self.wait_status >> 8

    @property
    def signal(self) -> int:
        return self.wait_status & 0x7F


def parse(output: str) -> dict[str, JobState]:
    states = {}
    for line in output.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 6:
            continue
        array, task, state, reason, code, node = (part.strip() for part in parts)
        job_id = array if task in ("N/A", "") else f"{array}_{task}"
        states[job_id] = JobState(state.split()[0], reason, int(code) if code.isdigit() else 0, node)
    return states


def query(job_ids: Sequence[str], patience: float) -> Mapping[str, JobState | None]:
    """The state of each of these jobs (``N`` or array elements ``N_i``) in one squeue
    call; None for an id squeue no longer lists. Only the ids asked about are keys,
    so a job submitted while the query ran is not mistaken for a vanished one."""
    base = sorted({job_id.split("_")[0] for job_id in job_ids})
    output = _commands.run(["squeue", "--noheader", "--array", "--states=all", f"--jobs={','.join(base)}",
                            f"--Format={FIELDS}"], patience, harmless=_commands.UNKNOWN_IDS)
    states = parse(output)
    return {job_id: states.get(job_id) for job_id in job_ids}


def wait_ended(job_ids: Sequence[str], patience: float, within: float = 15.0, every: float = 0.5) -> list[str]:
    """Wait up to ``within`` seconds for these jobs to end; the ones still pending or
    running then. ``scancel`` only asks: a job Slurm was starting as the driver took a
    Ctrl-C runs on until slurmd has signalled it, and a run must not return while a job
    of its own may still start its command."""
    deadline = time.monotonic() + within
    waiting = list(job_ids)
    while waiting:
        states = query(waiting, patience)
        waiting = [job_id for job_id, info in states.items() if info is not None and not info.ended]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(every)
    return waiting


def await_cancelled(job_ids: Sequence[str], patience: float, log: logging.Logger) -> None:
    """At a run's end: wait for the jobs it scancelled, and say which outlived the wait."""
    left = wait_ended(job_ids, patience) if job_ids else []
    if left:
        log.warning("Slurm jobs %s were cancelled but had not ended 15 s later; scancel them by hand if they "
                    "are still listed by squeue", ", ".join(left))
