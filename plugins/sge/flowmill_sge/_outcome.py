"""How a finished Grid Engine job becomes a :class:`api.Completion`.

The worker exits 0 when its node succeeded and ``WORKER_FAILED_EXIT`` when the node
failed and its crash file is written: both are ``done`` (the core reads which from the
store). A graph-mode job whose launcher refused to run (a parent left no result) is
``blocked``: the core skips it if a parent failed, else counts it lost. A job that
Grid Engine killed at the run's ``timeout`` (passed as ``-l h_rt``) is ``timeout``.
Anything else means the job never got to say: the worker died, a signal or the
scheduler killed it, or it was deleted before it started. Those are ``lost``, with
what Grid Engine told, the job id and the log files in the details for the crash file;
a kill at the job's own ``h_vmem`` or ``h_rt`` names that limit (see ``_limits``).
"""

from __future__ import annotations

import json
from typing import Any

import flowmill.backend as api

from . import _spec as spec
from ._limits import H_RT_MARGIN, Limits

GUARD_BLOCKED_EXIT = 13
"""Exit status of a graph-mode job that refused to run because a parent did not
produce its result in this submission (see ``launch``)."""

def _killed_at_limit(info: dict[str, Any], time_limit: float | None) -> bool:
    """An ``h_rt`` kill reaches DRMAA as a plain SIGKILL (measured: no flag tells it
    from an out-of-memory kill or a ``kill -9``); only the wall clock against the
    limit does."""
    wallclock = info.get("wallclock")
    return bool(time_limit and info.get("signal") == "SIGKILL" and wallclock is not None
                and wallclock >= time_limit - H_RT_MARGIN)


def _reason(sge_id: str, info: dict[str, Any], time_limit: float | None,
            limits: Limits) -> tuple[api.Status, str]:
    if info.get("from_store"):
        return api.Status.DONE, ""  # its result of this run is written (see _unreported)
    if info.get("never_started"):
        return api.Status.LOST, (f"Grid Engine job {sge_id} was deleted before it started (qdel, or the run was "
                                 "stopped)")
    status = info.get("exit_status")
    if info.get("exited"):
        if status in (0, spec.WORKER_FAILED_EXIT):
            return api.Status.DONE, ""
        if status == GUARD_BLOCKED_EXIT:
            return api.Status.BLOCKED, f"Grid Engine job {sge_id} did not run: an upstream node produced no result"
        return api.Status.LOST, (f"the worker of Grid Engine job {sge_id} exited with status {status} before "
                                 "recording a result or a crash (see its stderr file)")
    if _killed_at_limit(info, time_limit):
        return api.Status.TIMEOUT, (f"Grid Engine job {sge_id} was killed at its run-time limit "
                                    f"(-l h_rt, {time_limit:g}s) after {info['wallclock']:g}s")
    killed_by = limits.killed_by(info)
    if killed_by:
        return api.Status.LOST, f"Grid Engine job {sge_id} was {killed_by}"
    if info.get("signal"):
        return api.Status.LOST, (f"Grid Engine job {sge_id} was killed by signal {info['signal']} (out of memory, "
                                 "the node's own h_rt, or killed on its host)")
    usage = info.get("usage_exit_status")
    extra = f"; exit status {usage:.0f}" if usage else ""
    return api.Status.LOST, (f"Grid Engine job {sge_id} was killed or aborted by the scheduler (qdel, a limit such "
                             f"as h_vmem, or a failure to start{extra})")


def _memory_error(job: api.Job) -> bool:
    try:
        return json.loads((job.dir / api.CRASH).read_text()).get("error_type") == "MemoryError"
    except (OSError, ValueError, AttributeError):
        return False


def judge(job: api.Job, sge_id: str, info: dict[str, Any], time_limit: float | None = None,
          limits: Limits = Limits()) -> api.Completion:
    """Classify a finished job and build its completion; ``time_limit`` is the run's
    ``timeout`` the job was submitted with as ``-l h_rt``, ``limits`` those of its
    native specification."""
    status, reason = _reason(sge_id, info, time_limit, limits)
    logs = spec.log_paths(job)
    details: dict[str, Any] = {"sge_job_id": sge_id, **logs}
    if info.get("exit_status") == spec.WORKER_FAILED_EXIT and limits.h_vmem and _memory_error(job):
        details["memory_limit"] = limits.memory_error_note()
    for key in ("exit_status", "signal", "aborted", "usage_exit_status", "wallclock", "maxvmem"):
        if info.get(key) is not None:
            details[key] = info[key]
    if status == api.Status.LOST:
        tail = api.tail(logs["stderr"])
        if tail:
            details["stderr_tail"] = tail
    return api.Completion(job.id, status=status, reason=reason, details=details)


def judge_from_store(job: api.Job, sge_id: str, token: str | None, status: str, *,
                     chased: bool = False) -> api.Completion:
    """A job whose end DRMAA cannot describe: one of an earlier run that this run
    re-attached to and watched, or one whose end a qmaster restart swallowed
    (``chased``: the qmaster no longer runs it, drmaa_wait never said). The store
    tells: its own result or crash file means it ran to its end."""
    details = {"sge_job_id": sge_id, "chased" if chased else "reattached": True, **spec.log_paths(job)}
    if api.result_token(job.dir) == token or api.has_crash(job.dir):
        return api.Completion(job.id, details=details)
    which = "Grid Engine job" if chased else "re-attached Grid Engine job"
    after = " (its end was lost in a qmaster restart)" if chased else ""
    return api.Completion(job.id, status=api.Status.LOST, details=details,
                          reason=f"{which} {sge_id} ended ({status}){after} without writing a result (deleted, "
                                 "or killed by a limit?)")
