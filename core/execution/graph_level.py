"""The driver for executors that take the whole remaining graph (``GraphExecutor``).

``run_graph`` runs on a thread of its own; the driver thread delivers observer events,
cancels what the runner settled without the executor (dependants of a failure, a stop
at the first crash, expired timeouts) and stops everything on Ctrl-C. Completions and
``blocked`` questions are answered by the runner in the executor's thread, so a
failure is known before the executor asks about the failed node's children.

An executor that breaks the contract (see ``runner``) stops the run at once with the
runner's PluginError; one whose ``run_graph`` raises fails every job it had not
reported, with the backend's error in their crash files (a PluginError or
ValidationError it raises is its deliberate refusal of the run, raised as it is); an inbox silent for
``HEARTBEAT_SECONDS`` is logged with what is in flight, and one silent for
``liveness.CHECK_EVERY`` asks the executor's ``alive()``: one that declares itself
dead fails every job not settled, naming its reason, and gets ``liveness.GRACE``
seconds to return from ``run_graph`` before the run ends without it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from typing import Any

from .._errors import FlowmillError
from ..contract.states import NodeState, Verdict
from ..contract.types import Completion, GraphExecutor
from . import liveness
from . import runner as policy
from .liveness import Liveness
from .runner import Runner

log = logging.getLogger("flowmill")

_DONE = object()


class GraphLevelDriver:
    """Moves the remaining graph between the runner's policy and a graph-level executor."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.executor: GraphExecutor = runner.executor
        self.inbox: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self.outcome: dict[str, Any] = {}
        self.liveness = Liveness(self.executor)
        self.remaining: list[str] = []

    def run(self) -> None:
        runner = self.runner
        remaining = self.remaining = self._uncached()
        subgraph = runner.graph.subgraph(remaining)
        for job in subgraph:
            runner.submitted(job)
        runner.emit = self._queue_event
        runner.wake = lambda: self.inbox.put(("wake",))
        runner.doomed = lambda job_ids: self.inbox.put(("cancel", job_ids))
        runner.misbehaved = lambda error: self.inbox.put(("breach", error))
        try:
            if remaining:
                self._drive(subgraph, remaining)
        finally:
            self.executor.shutdown()
            runner.emit = runner.notify_now
            runner.wake = lambda: None
        self._deliver_queued()
        if runner.violation is not None:
            raise runner.violation
        error = self.outcome.get("error")
        if error is not None and (isinstance(error, FlowmillError) or not isinstance(error, Exception)):
            raise error
        runner.unreported(remaining, set(self.outcome.get("pending") or ()), *self._why_unreported(error))

    def _why_unreported(self, error: Exception | None) -> tuple[str, dict[str, Any]]:
        """What the crash file of a job ``run_graph`` never reported says."""
        backend = self.runner.info.backend
        if error is None:
            return f"backend {backend!r} returned from run_graph without reporting this job", {}
        reason = f"backend {backend!r}: run_graph raised {type(error).__name__}: {error}"
        log.error("%s", reason)
        return reason, {"backend": backend, "traceback": "".join(traceback.format_exception(error))}

    def _uncached(self) -> list[str]:
        """Ids of the jobs the executor must run, in topological order. A job can be
        checked in the driver only when every parent is cached; below anything that
        runs, the job computes its own key where it runs."""
        runner = self.runner
        remaining = []
        for job_id in runner.graph.topological():
            job = runner.graph.jobs[job_id]
            if all(runner.states.get(p) == NodeState.CACHED for p in runner.graph.parents[job_id]):
                if runner.try_cache(job):
                    continue
            else:
                job.hash = None
            remaining.append(job_id)
        return remaining

    def _queue_event(self, event: str, **kwargs: Any) -> None:
        self.inbox.put(("event", event, kwargs))

    def _drive(self, subgraph: Any, remaining: list[str]) -> None:
        runner = self.runner
        events = _GraphEvents(runner)

        def target() -> None:
            try:
                self.outcome["pending"] = self.executor.run_graph(
                    subgraph, {job_id: runner.node_options[job_id] for job_id in remaining}, events)
            except BaseException as exc:
                self.outcome["error"] = exc
            finally:
                self.inbox.put(_DONE)

        thread = threading.Thread(target=target, name=f"flowmill-graph-{runner.info.run_id}", daemon=True)
        thread.start()
        try:
            while (item := self._next()) is not _DONE:
                self._handle(item)
            runner.drain_started()
        except BaseException:
            with runner.lock:
                unsettled = [job_id for job_id in remaining if job_id not in runner.states]
            log.warning("run interrupted: cancelling %d job(s) of the graph", len(unsettled))
            self.executor.cancel(unsettled)
            thread.join(timeout=30)
            raise

    def _next(self) -> Any:
        """The next item of the inbox; expires timeouts while waiting for it, logs a
        silence of ``HEARTBEAT_SECONDS`` with what is in flight, and ends the wait
        (``_DONE``) when the executor declares itself dead."""
        runner = self.runner
        quiet_since = last_beat = time.monotonic()
        while True:
            deadline = self.liveness.wait_for(runner.next_deadline_in())
            beat = policy.HEARTBEAT_SECONDS
            try:
                item = self.inbox.get(timeout=beat if deadline is None else min(deadline, beat))
                self.liveness.heard()
                return item
            except queue.Empty:
                expired = runner.expire()
                if expired:
                    self.executor.cancel(expired)
            if (reason := self.liveness.idle()) is not None:
                self._abandon(reason)
                return _DONE
            now = time.monotonic()
            if now - last_beat >= beat:
                runner.heartbeat(now - quiet_since)
                last_beat = now

    def _abandon(self, reason: str) -> None:
        """The executor can finish nothing more: fail what is not settled, cancel it
        there, and give ``run_graph`` ``liveness.GRACE`` seconds to return."""
        runner = self.runner
        with runner.lock:
            unsettled = [job_id for job_id in self.remaining if job_id not in runner.states]
        log.error("backend %r can finish nothing more (%s): its %d unsettled job(s) are lost",
                  runner.info.backend, reason, len(unsettled))
        runner.backend_gone(reason, unsettled)
        self.executor.cancel(unsettled)
        until = time.monotonic() + liveness.GRACE
        while (left := until - time.monotonic()) > 0:
            try:
                item = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            if item is _DONE:
                return
            self._handle(item)
        log.warning("backend %r did not return from run_graph within %.0f s; the run ends without it",
                    runner.info.backend, liveness.GRACE)

    def _handle(self, item: Any) -> None:
        self.runner.drain_started()
        if item[0] == "event":
            self.runner.notify_now(item[1], **item[2])
        elif item[0] == "cancel":
            self.executor.cancel(item[1])
        elif item[0] == "breach":
            raise item[1]

    def _deliver_queued(self) -> None:
        while not self.inbox.empty():
            item = self.inbox.get()
            if item is not _DONE and item[0] == "event":
                self.runner.notify_now(item[1], **item[2])


class _GraphEvents:
    """What a graph-level executor talks to: the runner's decisions, callable from
    any thread (the runner holds its lock for state changes)."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def completed(self, completion: Completion) -> Verdict:
        verdict = self._runner.complete(completion)
        if verdict == Verdict.RESUBMIT:
            self._runner.submitted(self._runner.graph.jobs[completion.job_id])
        return verdict

    def blocked(self, job_id: str) -> bool:
        return self._runner.blocked(job_id)
