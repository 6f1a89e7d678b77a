"""How a finished Slurm job becomes a :class:`api.Completion`.

The worker exits 0 when its node succeeded and ``FAILED_EXIT`` when the node failed
and wrote its crash file: both are ``done`` (the core reads which from the store). A
job stopped at the run's ``timeout`` (by its batch script, or by Slurm's ``--time``
backstop) is ``timeout``. Anything else (a signal, the
memory limit, a node failure, preemption, scancel, a job Slurm forgot) means the job
never got to say: ``lost``, with Slurm's state, the job id and the log in the details.
"""

from __future__ import annotations

from typing import Any

import flowmill.backend as api

from ._sbatch import FAILED_EXIT, LOG, TIMEOUT_EXIT
from ._squeue import JobState

_WHY = {
    "OUT_OF_MEMORY": "was killed for exceeding its memory limit (--mem)",
    "NODE_FAIL": "ended because its node failed",
    "BOOT_FAIL": "could not start: its node failed to boot",
    "PREEMPTED": "was preempted by a job of higher priority",
    "CANCELLED": "was cancelled (scancel, or by an administrator)",
    "DEADLINE": "reached its deadline before it could run",
    "TIMEOUT": "reached its time limit (resources['walltime'] or --time in sbatch_args)",
}


def _reason(slurm_id: str, info: JobState) -> str:
    if info.state in _WHY:
        return f"Slurm job {slurm_id} {_WHY[info.state]}"
    if info.signal:
        return (f"Slurm job {slurm_id} was killed by signal {info.signal} (its memory limit, or killed "
                f"on node {info.node or '?'})")
    return (f"the worker of Slurm job {slurm_id} exited with status {info.exit_status} before recording a "
            f"result or a crash ({info.state}, {info.reason}; see its log)")


def judge(job: api.Job, slurm_id: str, info: JobState | None, timeout: float | None,
          token: str | None = None) -> api.Completion:
    """Classify a finished (or vanished) job and build its completion; ``token`` is
    the run that submitted it (this run's, unless it was re-attached)."""
    details: dict[str, Any] = {"slurm_job_id": slurm_id, "log": str(job.dir / LOG)}
    if info is None:
        if api.result_token(job.dir) == (token or job.token) or api.has_crash(job.dir):
            return api.Completion(job.id, details=details)
        return api.Completion(job.id, api.Status.LOST, f"Slurm job {slurm_id} vanished from squeue without "
                              "writing a result (its record expired, or slurmctld lost it)", details)
    details.update(state=info.state, reason=info.reason, exit_status=info.exit_status, node=info.node)
    if info.signal:
        details["signal"] = info.signal
    if info.state in ("COMPLETED", "FAILED") and not info.signal and info.exit_status in (0, FAILED_EXIT):
        return api.Completion(job.id, details=details)
    stopped = info.state == "FAILED" and info.exit_status == TIMEOUT_EXIT and not info.signal
    if timeout is not None and (stopped or info.state == "TIMEOUT"):
        return api.Completion(job.id, api.Status.TIMEOUT, f"Slurm job {slurm_id} ran past the run's timeout "
                              f"({timeout}s) and was stopped", details)
    tail = api.tail(str(job.dir / LOG))
    if tail:
        details["log_tail"] = tail
    return api.Completion(job.id, api.Status.LOST, _reason(slurm_id, info), details)
