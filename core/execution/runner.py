"""The runner: the scheduling policy of a run, decided once for every backend.

Whatever the executor's shape, the decisions are made here: which nodes the cache
answers (in the driver, before anything is dispatched), what a completion means
(read the result or crash file from the store, waiting up to ``result_grace`` for a
slow shared file system), whether a lost job is resubmitted (``retries``, a fresh
attempt and a fresh deadline), when a job's time is up (``timeout``, clocked from the
job's start), which dependants a failure dooms (skip propagation), and when the run
stops dispatching (``stop_on_first_crash``). The two drivers in ``job_level`` and
``graph_level`` only move jobs between this policy and an executor; ``max_jobs`` is
capped by the job-level driver, or by a graph-level executor that declares it can.

An executor that breaks the contract is stopped with a :class:`PluginError` naming its
backend, never trusted further: a completion for a job it was never given, a second
report of a job its own first report settled (e.g. lost after done), and a start or a
completion of a job ``GraphEvents.blocked`` told it not to run. Reports of jobs the core
settled itself (skipped, cancelled, timed out) are expected and ignored: an executor
may race the core's ``cancel``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .._errors import PluginError
from ..contract.helpers import backoff
from ..contract.manager import notify
from ..contract.options import RunOptions
from ..contract.runinfo import RunInfo
from ..contract.states import CrashKind, NodeState, Status, Verdict
from ..contract.types import Capabilities, Completion
from ..store import results as store
from .graph import ExecutionGraph
from .job import Job, Ref
from .journal import Journal

log = logging.getLogger("flowmill")

STOP = "stop_on_first_crash"
"""What a node skipped after the run stopped at its first crash was skipped "because" of."""

HEARTBEAT_SECONDS = 60.0
"""Seconds without a completion after which a driver logs what is still in flight
(and again every as many seconds), so a silent executor shows in the log."""


RUNS: "weakref.WeakSet[Runner]" = weakref.WeakSet()
"""The runs under way in this process, for a watchdog to say what is in flight (a
session takes its run out when it ends, even if an executor's thread lives on)."""


class Runner:
    """The state and the decisions of one run of one execution graph. Safe to call
    from an executor's threads: state changes happen under one lock, and observer
    events go through ``emit``, which a graph-level driver queues to the driver thread."""

    def __init__(self, graph: ExecutionGraph, executor: Any, run_options: RunOptions,
                 node_options: Mapping[str, Any], info: RunInfo, capabilities: Capabilities) -> None:
        self.graph = graph
        self.executor = executor
        self.options = run_options
        self.node_options = node_options
        self.info = info
        self.capabilities = capabilities
        self.states: dict[str, NodeState] = {}
        self.digests: dict[str, dict[str, str]] = {}
        self.crash_files: dict[str, Path] = {}
        self.errors: dict[str, str] = {}
        self.skipped_because: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.deadlines: dict[str, float] = {}
        self.running: set[str] = set()
        """Jobs the executor reported started, in their current attempt."""
        self.reported: set[str] = set()
        """Jobs settled by the executor's own report: another report of one is a mistake."""
        self.refused: set[str] = set()
        """Jobs ``blocked`` told the executor not to run: running one is a mistake."""
        self.violation: PluginError | None = None
        """The first contract breach of the executor; the run stops with it."""
        self.misbehaved: Callable[[PluginError], None] = lambda error: None
        """Told of a breach found in an executor's thread (set by the graph-level driver)."""
        self.stopping = False
        self.stop_reason = STOP
        """What nodes skipped after the stop were skipped "because" of."""
        self.lock = threading.RLock()
        self.emit: Callable[..., None] = self.notify_now
        self.doomed: Callable[[list[str]], None] = lambda job_ids: None
        """Told which submitted jobs the core settled without them (set by a driver)."""
        self._started: "queue.SimpleQueue[tuple[str, str | None]]" = queue.SimpleQueue()
        self.wake: Callable[[], None] = lambda: None
        """Told that a start waits to be delivered (set by a graph-level driver, whose
        thread sleeps on its inbox; the job-level driver bounds its waits instead)."""
        RUNS.add(self)
        self.journal: Journal | None = None
        """Set when jobs run in the driver process: it records the running ones."""
        self._clock_on_start = (capabilities.timeouts == "cancel" and capabilities.reports_starts
                                and run_options.timeout is not None)

    def notify_now(self, event: str, **kwargs: Any) -> None:
        notify(event, run=self.info, **kwargs)

    # -- starts and the timeout clock ------------------------------------------------

    def job_started(self, job_id: str, where: str | None = None) -> None:
        """Given to the executor as ``RunContext.started``; safe from any thread. Starts
        the job's clock at once; observers hear of it, and of ``where`` it runs, on the
        driver thread."""
        with self.lock:
            if job_id in self.refused:
                raise self.breach(f"started job {job_id!r}, which GraphEvents.blocked told it not to run",
                                  "run a job only when events.blocked(job_id) returns False")
            if job_id in self.states or job_id not in self.attempts or job_id in self.running:
                return
            self.running.add(job_id)
            if self._clock_on_start:
                self.deadlines[job_id] = time.monotonic() + self.options.timeout  # type: ignore[operator]
        if self.journal is not None:
            self.journal.enter(self.graph.jobs[job_id])
        self._started.put((job_id, where))
        self.wake()

    def drain_started(self) -> None:
        """Deliver start reports to observers (on the driver thread)."""
        while True:
            try:
                job_id, where = self._started.get_nowait()
            except queue.Empty:
                return
            notify("flowmill_node_started", run=self.info, job=self.graph.jobs[job_id], where=where)

    def next_deadline_in(self) -> float | None:
        """Seconds until the next timeout expires (None: no clock is running)."""
        with self.lock:
            if not self.deadlines:
                return None
            return max(0.0, min(self.deadlines.values()) - time.monotonic())

    def expire(self) -> list[str]:
        """Fail every job whose time is up; the caller cancels them on the executor."""
        now = time.monotonic()
        with self.lock:
            expired = [job_id for job_id, deadline in self.deadlines.items() if deadline <= now]
            for job_id in expired:
                self._fail(self.graph.jobs[job_id], CrashKind.TIMEOUT, self._timeout_reason(), {})
        return expired

    def _timeout_reason(self) -> str:
        return f"timed out after {self.options.timeout}s (run option timeout)"

    # -- contract breaches and silence ------------------------------------------------

    def breach(self, what: str, fix: str) -> PluginError:
        """Record (the first) and return the error for an executor that broke the contract."""
        error = PluginError(f"backend {self.info.backend!r} {what}; this is a bug in the backend: {fix}")
        with self.lock:
            if self.violation is None:
                self.violation = error
                log.error("%s", error)
        self.misbehaved(error)
        return error

    def in_flight(self) -> list[str]:
        """Jobs in the executor's hands, unsettled; those reported started come first."""
        with self.lock:
            held = [job_id for job_id in self.attempts if job_id not in self.states]
        return sorted(held, key=lambda job_id: job_id not in self.running)

    def describe_in_flight(self, most: int = 10) -> str:
        held = self.in_flight()
        shown = ", ".join(f"{job_id} ({'started' if job_id in self.running else 'not started'})"
                          for job_id in held[:most])
        more = f" and {len(held) - most} more" if len(held) > most else ""
        return (shown + more) or "nothing"

    def heartbeat(self, quiet_for: float) -> None:
        log.warning("no completion from backend %r for %.0f s; in flight: %s", self.info.backend, quiet_for,
                    self.describe_in_flight())

    # -- dispatch -------------------------------------------------------------------

    def try_cache(self, job: Job) -> bool:
        job.settle_key(self._upstream_digest)
        header = job.reusable()
        if header is None:
            return False
        self.digests[job.id] = header["digests"]
        self.states[job.id] = NodeState.CACHED
        self.emit("flowmill_node_cached", job=job)
        return True

    def _upstream_digest(self, ref: Ref) -> str:
        return self.digests[ref.job_id][ref.output]

    def submitted(self, job: Job) -> None:
        """Record an attempt handed to the executor (first or resubmitted)."""
        with self.lock:
            job.token = self.info.run_id
            self.attempts[job.id] = self.attempts.get(job.id, 0) + 1
            self.deadlines.pop(job.id, None)
            self.running.discard(job.id)
            if self.capabilities.timeouts == "cancel" and self.options.timeout and not self._clock_on_start:
                self.deadlines[job.id] = time.monotonic() + self.options.timeout
        if self.attempts[job.id] == 1:
            self.emit("flowmill_node_submitted", job=job)

    def blocked(self, job_id: str) -> bool:
        """True if the job must not run; settles it as skipped the first time."""
        with self.lock:
            if job_id not in self.states:
                blocker = self._blocker(job_id)
                if blocker is None:
                    return False
                self._skip(job_id, blocker)
            if job_id not in self.running:
                self.refused.add(job_id)
            return True

    def _blocker(self, job_id: str) -> str | None:
        if self.stopping:
            return self.stop_reason
        for parent in self.graph.parents[job_id]:
            state = self.states.get(parent)
            if state == NodeState.FAILED:
                return parent
            if state == NodeState.SKIPPED:
                return self.skipped_because[parent]
        return None

    def _skip(self, job_id: str, because: str) -> None:
        self.states[job_id] = NodeState.SKIPPED
        self.skipped_because[job_id] = because
        self.deadlines.pop(job_id, None)
        self.emit("flowmill_node_skipped", job=self.graph.jobs[job_id], because=because)

    # -- completions ----------------------------------------------------------------

    def complete(self, completion: Completion) -> Verdict:
        """Decide what a completion means. Reports of jobs the core settled itself
        (skipped, cancelled, timed out) are ignored; a report of a job the executor was
        never given, or already reported, or was told not to run, is a breach."""
        job = self.graph.jobs.get(completion.job_id)
        if self.journal is not None:
            self.journal.leave(completion.job_id)
        with self.lock:
            if job is None or job.id not in self.attempts:
                raise self.breach(f"reported a completion for job {completion.job_id!r}, which it was never "
                                  "given", "report only the ids of the jobs submitted to it")
            if job.id in self.reported:
                raise self.breach(f"reported job {job.id!r} again ({completion.status}) after its report had "
                                  f"settled it as {self.states.get(job.id, 'done')}",
                                  "report each attempt of a job exactly once")
            if job.id in self.refused:
                raise self.breach(f"reported job {job.id!r} ({completion.status}), which GraphEvents.blocked "
                                  "told it not to run", "run a job only when events.blocked(job_id) returns False")
            if job.id in self.states:
                return Verdict.SETTLED
            self.reported.add(job.id)
            status = completion.status
            if status == Status.BLOCKED:
                blocker = self._blocker(job.id)
                if blocker is not None:
                    self._skip(job.id, blocker)
                    return Verdict.SETTLED
                status = Status.LOST
            if status == Status.TIMEOUT:
                details = {**completion.details, "backend_reason": completion.reason}
                self._fail(job, CrashKind.TIMEOUT, self._timeout_reason(), details)
                return Verdict.SETTLED
            if status != Status.DONE:
                return self._lost(job, completion)
            self.deadlines.pop(job.id, None)
        self._settle_done(job, completion)
        return Verdict.SETTLED

    def _lost(self, job: Job, completion: Completion) -> Verdict:
        reason = completion.reason or "the job was lost"
        attempts = self.attempts[job.id]
        if attempts <= self.options.retries and not self.stopping:
            log.warning("node %s was lost (%s); resubmitting (attempt %d of %d)", job.id, reason, attempts + 1,
                        self.options.retries + 1)
            self.emit("flowmill_node_retried", job=job, attempt=attempts + 1, reason=reason)
            self.deadlines.pop(job.id, None)
            self.reported.discard(job.id)
            return Verdict.RESUBMIT
        error = f"lost {attempts} time(s), retries={self.options.retries}: {reason}"
        self._fail(job, CrashKind.LOST, error, dict(completion.details))
        return Verdict.SETTLED

    def _settle_done(self, job: Job, completion: Completion) -> None:
        """Read what a finished job left in the store (outside the lock: this may wait
        for a slow shared file system), then record it. A result carrying this run's
        token was made by this very job, which cleared the node's crash records before
        it ran: it is settled without looking for one. Any other result (an older
        run's) counts only if no crash record says this job failed."""
        waits = backoff(within=self.options.result_grace)
        while True:
            header = store.read_header(job.dir)
            usable = header is not None and (job.hash is None or header.get("hash") == job.hash)
            if usable and header.get("token") == job.token:  # type: ignore[union-attr]
                with self.lock:
                    self._record_success(job, header)  # type: ignore[arg-type]
                return
            crash_file = store.find_crash(job.dir)
            if crash_file is not None:
                record = store.read_crash(crash_file)
                if completion.details:
                    record["details"] = {**record.get("details", {}), **completion.details}
                    crash_file = store.write_crash(job.dir, record)
                with self.lock:
                    self._record_failure(job, crash_file, f"{record.get('error_type')}: {record.get('error')}")
                return
            if usable:
                with self.lock:
                    self._record_success(job, header)  # type: ignore[arg-type]
                return
            if next(waits, None) is None:
                reason = (f"backend {self.info.backend!r} reported the job done, but no result and no crash "
                          f"file was written to {job.dir} within result_grace={self.options.result_grace}s: "
                          "did the backend run the job (Job.execute)? If it ran on another host, a shared "
                          "file system slower than that would explain it: raise result_grace")
                with self.lock:
                    self._fail(job, CrashKind.RESULT_MISSING, reason, dict(completion.details))
                return

    def _record_success(self, job: Job, header: Mapping[str, Any]) -> None:
        if job.id in self.states:
            return
        self.digests[job.id] = header["digests"]
        if header.get("token") == job.token:
            self.states[job.id] = NodeState.RAN
            self.emit("flowmill_node_finished", job=job, report=header)
        else:
            self.states[job.id] = NodeState.CACHED
            self.emit("flowmill_node_cached", job=job)

    def _fail(self, job: Job, kind: CrashKind, error: str, details: dict[str, Any]) -> None:
        """Fail a job that could not report for itself: the core writes its crash file."""
        self._record_failure(job, job.crash(error, kind, details), error)

    def _record_failure(self, job: Job, crash_file: Path, error: str) -> None:
        if job.id in self.states:
            return
        self.states[job.id] = NodeState.FAILED
        self.deadlines.pop(job.id, None)
        self.crash_files[job.id] = crash_file
        self.errors[job.id] = error
        log.error("node %s failed: %s (crash file: %s)", job.id, error, crash_file)
        self.emit("flowmill_node_failed", job=job, error=error, crash_file=str(crash_file))
        doomed = self._doom(self._descendants(job.id), job.id)
        if self.options.stop_on_first_crash and not self.stopping:
            self.stopping = True
            doomed += self._doom(self._unsettled_submitted(), STOP)
        if doomed:
            self.doomed(doomed)

    def backend_gone(self, reason: str, job_ids: Iterable[str]) -> None:
        """The executor declared it can finish nothing more (see ``liveness``): the
        jobs it held are lost for good, and the run stops dispatching."""
        with self.lock:
            self.stopping = True
            self.stop_reason = f"backend {self.info.backend} gone"
            for job_id in job_ids:
                if job_id not in self.states:
                    self._fail(self.graph.jobs[job_id], CrashKind.LOST, f"lost: {reason}", {})

    def _descendants(self, job_id: str) -> list[str]:
        seen: set[str] = set()
        stack = list(self.graph.children[job_id])
        found = []
        while stack:
            child = stack.pop()
            if child not in seen and child not in self.states:
                seen.add(child)
                found.append(child)
                stack.extend(self.graph.children[child])
        return found

    def _unsettled_submitted(self) -> list[str]:
        """What a stop at the first crash cancels: submitted jobs not reported started
        (on a backend that reports no starts, every job still in its hands)."""
        return [job_id for job_id in self.attempts if job_id not in self.states and job_id not in self.running]

    def _doom(self, job_ids: Iterable[str], because: str) -> list[str]:
        """Skip these unsettled jobs; the ones already submitted are returned to cancel.
        A dependant of a failed node is skipped because of that node, whatever blocked
        the nodes in between."""
        cancel = []
        for job_id in job_ids:
            if job_id in self.states:
                continue
            self._skip(job_id, because)
            if job_id in self.attempts:
                cancel.append(job_id)
        return cancel

    def unreported(self, job_ids: Iterable[str], pending: set[str], reason: str,
                   details: Mapping[str, Any]) -> None:
        """Settle what an executor ended without reporting: pending on purpose, or lost
        for ``reason``."""
        for job_id in job_ids:
            if job_id in self.states:
                continue
            if job_id in pending:
                self.states[job_id] = NodeState.PENDING
            else:
                self._fail(self.graph.jobs[job_id], CrashKind.LOST, reason, dict(details))
