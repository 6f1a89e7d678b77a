"""nipype's ``status_callback`` plugin argument, as an observer of one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..contract.manager import register, unregister
from ..contract.markers import hookimpl

if TYPE_CHECKING:
    from ..contract.runinfo import RunInfo
    from ..execution.job import Job

StatusCallback = Callable[["Job", str], Any]


class StatusObserver:
    """Calls ``callback(job, status)`` for the nodes of the run it was made for:
    ``"start"`` when one begins, ``"end"`` when it finished, ``"exception"`` when it
    failed (nipype's three), ``"cached"`` and ``"skipped"`` for nodes that did not run.
    Like every observer, a callback that raises is logged and never breaks the run."""

    def __init__(self, callback: StatusCallback) -> None:
        self.callback = callback
        self.run_id: str | None = None

    def __enter__(self) -> "StatusObserver":
        register(self)
        return self

    def __exit__(self, *exc: object) -> None:
        unregister(self)

    def _report(self, run: "RunInfo", job: "Job", status: str) -> None:
        if run.run_id == self.run_id:
            self.callback(job, status)

    @hookimpl
    def flowmill_run_started(self, run: "RunInfo") -> None:
        if self.run_id is None:
            self.run_id = run.run_id

    @hookimpl
    def flowmill_node_started(self, run: "RunInfo", job: "Job") -> None:
        self._report(run, job, "start")

    @hookimpl
    def flowmill_node_finished(self, run: "RunInfo", job: "Job") -> None:
        self._report(run, job, "end")

    @hookimpl
    def flowmill_node_failed(self, run: "RunInfo", job: "Job", error: str, crash_file: str) -> None:
        self._report(run, job, "exception")

    @hookimpl
    def flowmill_node_cached(self, run: "RunInfo", job: "Job") -> None:
        self._report(run, job, "cached")

    @hookimpl
    def flowmill_node_skipped(self, run: "RunInfo", job: "Job", because: str) -> None:
        self._report(run, job, "skipped")
