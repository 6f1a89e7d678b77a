"""What a job cost where it ran: CPU time and peak memory, measured around the task's
code by the process that runs it (the driver, an engine, a batch worker), so the
figures and the timestamps of a run record come from the job's own host."""

from __future__ import annotations

import os
import resource
import time
from typing import Any

_THREAD = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
"""The calling thread's own CPU time where the system offers it: executors running
jobs on threads (Ruffus' multithread mode) would otherwise charge each job with its
neighbours' time."""


def _cpu() -> float:
    own = resource.getrusage(_THREAD)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Usage:
    """Started just before the task runs; ``report`` once it returned or raised."""

    __slots__ = ("started", "_cpu")

    def __init__(self) -> None:
        self.started = time.time()
        self._cpu = _cpu()

    def report(self) -> dict[str, Any]:
        """``started``/``ended`` (this host's clock), ``duration``, ``cpu_s`` (user +
        system, the command's child processes included), ``max_rss_kib`` (peak resident
        memory of this process or of the largest child it waited for; on a reused
        worker, its peak so far), ``pid`` of the process that ran the job."""
        ended = time.time()
        maxrss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        return {"started": self.started, "ended": ended, "duration": ended - self.started,
                "cpu_s": round(_cpu() - self._cpu, 6), "max_rss_kib": maxrss, "pid": os.getpid()}
