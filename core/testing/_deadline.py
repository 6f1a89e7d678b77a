"""The kit's own deadline per case, so a backend that never reports fails the case
instead of hanging the battery (independent of any pytest-timeout setting).

A watchdog thread waits out the deadline; past it, it signals the main thread, whose
handler raises :class:`KitDeadline` naming the backend and what was in flight, which
unwinds the run like Ctrl-C would (the driver cancels what it holds). If the backend
blocks the unwinding too (a ``cancel`` or ``shutdown`` that never returns), the
watchdog signals again every ``grace`` seconds.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from types import FrameType

from ..execution.runner import RUNS

SIGNAL = signal.SIGUSR2
"""Not SIGALRM, which pytest-timeout may use for its own timer."""

class KitDeadline(Exception):
    """A conformance case outlived the kit's deadline."""


def in_flight() -> str:
    runs = [f"backend {run.info.backend!r}: {run.describe_in_flight()}" for run in list(RUNS)
            if run.in_flight()]
    return "; ".join(runs) or "no job in flight"


def _threads() -> str:
    """The stacks of the other threads, where an executor that hangs is stuck."""
    frames = sys._current_frames()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(f"thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame))
                     for ident, frame in frames.items() if ident != threading.get_ident())


class Deadline:
    """Arms the deadline of one case for ``backend``; use as a context manager on the
    main thread (elsewhere it does nothing, since only the main thread gets signals)."""

    def __init__(self, backend: str, seconds: float, grace: float = 10.0) -> None:
        self.backend = backend
        self.seconds = seconds
        self.grace = grace
        self._stop = threading.Event()

    def _watch(self, main: int) -> None:
        wait = self.seconds
        while not self._stop.wait(wait):
            signal.pthread_kill(main, SIGNAL)
            wait = self.grace

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        if self._stop.is_set():
            return
        raise KitDeadline(f"backend {self.backend!r} did not finish this case within the kit's deadline of "
                          f"{self.seconds:g} s (ConformanceSuite.deadline_seconds); in flight: {in_flight()}. "
                          "An executor must report every job it was given (JobExecutor.wait returns its "
                          "completions, GraphExecutor.run_graph reports each through events.completed and "
                          "returns) and must not block beyond wait's timeout.\nthreads:\n" + _threads())

    def __enter__(self) -> "Deadline":
        if threading.current_thread() is not threading.main_thread():
            return self
        self._previous = signal.signal(SIGNAL, self._expired)
        self._watcher = threading.Thread(target=self._watch, args=(threading.get_ident(),),
                                         name="flowmill-kit-deadline", daemon=True)
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._stop.set()
        self._watcher.join()
        signal.signal(SIGNAL, self._previous)

