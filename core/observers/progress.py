"""The progress observer: keeps a :class:`Tally` of each run and hands the events
worth a message to the run's view (:mod:`flowmill.observers.views`). Quiet when the
run option ``progress`` is False; replace it by unregistering ``flowmill.progress``
and registering another observer."""

from __future__ import annotations

import time
from typing import Any, Mapping

from ..contract.markers import hookimpl
from ..contract.runinfo import RunInfo
from . import views
from .tally import Tally, seconds


class Progress:
    """The observer; one view per run in progress (none for quiet runs)."""

    def __init__(self) -> None:
        self._views: dict[str, views.LineView] = {}
        self._started: dict[str, float] = {}

    @hookimpl
    def flowmill_run_started(self, run: RunInfo) -> None:
        if run.options.progress:
            self._views[run.run_id] = views.choose(run, Tally(run.n_jobs))
            self._started[run.run_id] = time.monotonic()

    @hookimpl
    def flowmill_node_submitted(self, run: RunInfo, job: Any) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.submitted(job.id)

    @hookimpl
    def flowmill_node_started(self, run: RunInfo, job: Any, where: str | None) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.started_job(job.id, where)

    @hookimpl
    def flowmill_node_finished(self, run: RunInfo, job: Any, report: Mapping[str, Any]) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.settle(job.id, "done")
            view.finished(job.id, report.get("duration", 0.0), report.get("host"))

    @hookimpl
    def flowmill_node_cached(self, run: RunInfo, job: Any) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.settle(job.id, "cached")
            view.cached_node(job.id)

    @hookimpl
    def flowmill_node_failed(self, run: RunInfo, job: Any, error: str, crash_file: str) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.failed(job.id, error, crash_file)
            view.failed(job.id, error, crash_file)

    @hookimpl
    def flowmill_node_skipped(self, run: RunInfo, job: Any, because: str) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.tally.settle(job.id, "skipped")
            view.skipped(job.id, because)

    @hookimpl
    def flowmill_node_retried(self, run: RunInfo, job: Any, attempt: int, reason: str) -> None:
        view = self._views.get(run.run_id)
        if view is not None:
            view.retried(job.id, attempt, reason)

    @hookimpl
    def flowmill_run_finished(self, run: RunInfo, result: Any) -> None:
        self._close(run, f"finished: {result!r}")

    @hookimpl
    def flowmill_run_aborted(self, run: RunInfo, error: BaseException) -> None:
        self._close(run, f"aborted: {type(error).__name__}: {error}")

    def _close(self, run: RunInfo, outcome: str) -> None:
        view = self._views.pop(run.run_id, None)
        if view is not None:
            elapsed = time.monotonic() - self._started.pop(run.run_id)
            view.close(f"flowmill: run {run.run_id} {outcome} in {seconds(elapsed)}")


PLUGIN = Progress()
