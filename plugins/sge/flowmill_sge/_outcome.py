"""How a finished Grid Engine job becomes a :class:`api.Completion`.

The worker exits 0 when its node succeeded and ``WORKER_FAILED_EXIT`` when the node
failed and its crash file is written: both are ``done`` (the core reads which from the
store). Anything else means the job never got to say: the worker died, a signal or
the scheduler killed it, or it was deleted before it started. Those are ``lost``, with
what Grid Engine told, the job id and the log files in the details for the crash file.
"""

from __future__ import annotations

from typing import Any, Literal

import flowmill.backend as api

from . import _spec as spec

GUARD_BLOCKED_EXIT = 13
"""Exit status of a graph-mode job that refused to run because a parent did not
produce its result in this submission (see ``launch``)."""

Kind = Literal["done", "lost", "blocked"]

def _reason(sge_id: str, info: dict[str, Any]) -> tuple[Kind, str]:
    if info.get("never_started"):
        return "lost", f"Grid Engine job {sge_id} was deleted before it started (qdel, or the run was stopped)"
    status = info.get("exit_status")
    if info.get("exited"):
        if status in (0, spec.WORKER_FAILED_EXIT):
            return "done", ""
        if status == GUARD_BLOCKED_EXIT:
            return "blocked", f"Grid Engine job {sge_id} did not run: an upstream node produced no result"
        return "lost", (f"the worker of Grid Engine job {sge_id} exited with status {status} before recording "
                        "a result or a crash (see its stderr file)")
    if info.get("signal"):
        return "lost", (f"Grid Engine job {sge_id} was killed by signal {info['signal']} (out of memory, "
                        "or killed on its host)")
    usage = info.get("usage_exit_status")
    extra = f"; exit status {usage:.0f}" if usage else ""
    return "lost", (f"Grid Engine job {sge_id} was killed or aborted by the scheduler (qdel, a limit such as "
                    f"h_rt or h_vmem, or a failure to start{extra})")


def judge(job: api.Job, sge_id: str, info: dict[str, Any]) -> tuple[Kind, api.Completion]:
    """Classify a finished job and build its completion."""
    kind, reason = _reason(sge_id, info)
    logs = spec.log_paths(job)
    details: dict[str, Any] = {"sge_job_id": sge_id, **logs}
    for key in ("exit_status", "signal", "aborted", "usage_exit_status", "wallclock", "maxvmem"):
        if info.get(key) is not None:
            details[key] = info[key]
    if kind == "lost":
        tail = api.tail(logs["stderr"])
        if tail:
            details["stderr_tail"] = tail
    status: Literal["done", "lost"] = "done" if kind == "done" else "lost"
    return kind, api.Completion(job.id, status=status, reason=reason, details=details)


def judge_reattached(job: api.Job, sge_id: str, token: str | None, status: str) -> api.Completion:
    """A job of an earlier run ended while this run watched it; DRMAA cannot say how,
    so the store tells: its own result or crash file means it ran to its end."""
    details = {"sge_job_id": sge_id, "reattached": True, **spec.log_paths(job)}
    if api.result_token(job.dir) == token or api.has_crash(job.dir):
        return api.Completion(job.id, details=details)
    return api.Completion(job.id, status="lost", details=details,
                               reason=f"re-attached Grid Engine job {sge_id} ended ({status}) without writing "
                                      "a result (deleted, or killed by a limit?)")
