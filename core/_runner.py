"""The runner: walks the execution graph in dependency order, resolves cached nodes in
the driver, hands the rest to the executor, and turns what comes back into node states.

Retries of lost jobs, timeouts, throttling, crash files for jobs that could not write
their own, and the grace period for results on a slow shared file system live here
once, for every backend. The ready-queue is :class:`graphlib.TopologicalSorter`, so a
run costs O(nodes + edges) and the driver sleeps in the executor's ``wait`` until a
job completes, never polling.
"""

from __future__ import annotations

import graphlib
import logging
import queue
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Mapping

from . import _store as store
from ._contract import Completion, GraphExecutor, JobExecutor
from ._graph import ExecutionGraph
from ._job import Job, Ref
from ._manager import notify
from ._options import RunOptions
from ._runinfo import RunInfo

log = logging.getLogger("flowmill")

_DONE = object()


class Runner:
    """One run of one execution graph on one executor."""

    def __init__(self, graph: ExecutionGraph, executor: Any, run_options: RunOptions,
                 node_options: Mapping[str, Any], info: RunInfo) -> None:
        self.graph = graph
        self.executor = executor
        self.options = run_options
        self.node_options = node_options
        self.info = info
        self.states: dict[str, str] = {}
        self.digests: dict[str, dict[str, str]] = {}
        self.crash_files: dict[str, Path] = {}
        self.errors: dict[str, str] = {}
        self.skipped_because: dict[str, str] = {}
        self.started: "queue.SimpleQueue[str]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._emit = self._notify_now

    def _notify_now(self, event: str, **kwargs: Any) -> None:
        notify(event, run=self.info, **kwargs)

    def job_started(self, job_id: str) -> None:
        """Given to the executor as ``RunContext.started``; safe from any thread."""
        self.started.put(job_id)

    def _drain_started(self) -> None:
        while True:
            try:
                job_id = self.started.get_nowait()
            except queue.Empty:
                return
            notify("flowmill_node_started", run=self.info, job=self.graph.jobs[job_id])

    def run(self) -> dict[str, str]:
        if isinstance(self.executor, GraphExecutor):
            self._run_graph_level()
        else:
            self._run_job_level()
        return self.states

    def _upstream_digest(self, ref: Ref) -> str:
        return self.digests[ref.job_id][ref.output]

    def _try_cache(self, job: Job) -> bool:
        job.hash = job.compute_hash(self._upstream_digest)
        header = store.valid_header(job.dir, job.hash)
        if header is None:
            return False
        self.digests[job.id] = header["digests"]
        self.states[job.id] = "cached"
        self._emit("flowmill_node_cached", job=job)
        return True

    def _blocker(self, job_id: str) -> str | None:
        for parent in self.graph.parents[job_id]:
            state = self.states.get(parent)
            if state == "failed":
                return parent
            if state == "skipped":
                return self.skipped_because[parent]
        return None

    def _skip(self, job_id: str, because: str) -> None:
        self.states[job_id] = "skipped"
        self.skipped_because[job_id] = because
        self._emit("flowmill_node_skipped", job=self.graph.jobs[job_id], because=because)

    def _fail(self, job: Job, crash_file: Path, error: str) -> None:
        self.states[job.id] = "failed"
        self.crash_files[job.id] = crash_file
        self.errors[job.id] = error
        log.error("node %s failed: %s (crash file: %s)", job.id, error, crash_file)
        self._emit("flowmill_node_failed", job=job, error=error, crash_file=str(crash_file))

    def _settle(self, job: Job, completion: Completion) -> None:
        """Read what a finished job left in the store and record its state."""
        if completion.status == "lost":
            crash = job.crash(completion.reason or "the job was lost", "JobLost", dict(completion.details))
            self._fail(job, crash, completion.reason or "the job was lost")
            return
        deadline = time.monotonic() + self.options.result_grace
        delay = 0.05
        while True:
            crash_file = job.dir / store.CRASH
            if crash_file.exists():
                record = store.read_crash(crash_file)
                if completion.details:
                    record["details"] = {**record.get("details", {}), **completion.details}
                    store.write_crash(job.dir, record)
                self._fail(job, crash_file, f"{record.get('error_type')}: {record.get('error')}")
                return
            header = store.read_header(job.dir)
            if header is not None and (job.hash is None or header.get("hash") == job.hash):
                self.digests[job.id] = header["digests"]
                if header.get("token") == job.token:
                    self.states[job.id] = "ran"
                    self._emit("flowmill_node_finished", job=job)
                else:
                    self.states[job.id] = "cached"
                    self._emit("flowmill_node_cached", job=job)
                return
            if time.monotonic() >= deadline:
                reason = (f"the job finished but neither its result nor a crash file appeared in {job.dir} "
                          f"within result_grace={self.options.result_grace}s (a shared file system slower "
                          "than that? raise result_grace)")
                self._fail(job, job.crash(reason, "ResultMissing", dict(completion.details)), reason)
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _submit(self, job: Job) -> None:
        job.token = self.info.run_id
        self.executor.submit(job, self.node_options[job.id])
        self._emit("flowmill_node_submitted", job=job)

    def _submit_batch(self, batch: list[Job]) -> None:
        for job in batch:
            job.token = self.info.run_id
        self.executor.submit_batch(batch, self.node_options[batch[0].id])
        for job in batch:
            self._emit("flowmill_node_submitted", job=job)

    @staticmethod
    def _take_batch(ready: deque[str], jobs: Mapping[str, Job]) -> list[str]:
        """The next ready job, with every ready sibling of the same MapNode, so an
        executor offering ``submit_batch`` can send them as one array."""
        first = ready.popleft()
        group = jobs[first].group
        if group is None:
            return [first]
        batch = [first] + [job_id for job_id in ready if jobs[job_id].group == group]
        if len(batch) > 1:
            taken = set(batch)
            kept = [job_id for job_id in ready if job_id not in taken]
            ready.clear()
            ready.extend(kept)
        return batch

    def _run_job_level(self) -> None:
        executor: JobExecutor = self.executor
        jobs = self.graph.jobs
        sorter = graphlib.TopologicalSorter(self.graph.parents)
        sorter.prepare()
        ready: deque[str] = deque(sorter.get_ready())
        in_flight: dict[str, float] = {}
        attempts: dict[str, int] = {}
        limits = [n for n in (executor.slots, self.options.max_jobs) if n]
        capacity = min(limits) if limits else float("inf")
        timeout = self.options.timeout
        stopping = False
        batching = callable(getattr(executor, "submit_batch", None))

        def finish(job_id: str) -> None:
            sorter.done(job_id)
            ready.extend(sorter.get_ready())

        try:
            while sorter.is_active():
                while ready and len(in_flight) < capacity:
                    batch = self._take_batch(ready, jobs) if batching else [ready.popleft()]
                    submit: list[Job] = []
                    for job_id in batch:
                        blocker = self._blocker(job_id)
                        if blocker is not None or stopping:
                            self._skip(job_id, blocker or "stop_on_first_crash")
                            finish(job_id)
                        elif self._try_cache(jobs[job_id]):
                            finish(job_id)
                        else:
                            attempts[job_id] = 1
                            in_flight[job_id] = time.monotonic() + timeout if timeout else float("inf")
                            submit.append(jobs[job_id])
                    if len(submit) > 1:
                        self._submit_batch(submit)
                    elif submit:
                        self._submit(submit[0])
                if not in_flight:
                    continue
                wait_for = max(0.0, min(in_flight.values()) - time.monotonic()) if timeout else None
                completions = executor.wait(wait_for)
                self._drain_started()
                for completion in completions:
                    job_id = completion.job_id
                    if job_id not in in_flight:
                        continue
                    job = jobs[job_id]
                    if completion.status == "lost" and attempts[job_id] <= self.options.retries:
                        attempts[job_id] += 1
                        log.warning("node %s was lost (%s); resubmitting (attempt %d of %d)", job_id,
                                    completion.reason, attempts[job_id], self.options.retries + 1)
                        self._submit(job)
                        continue
                    del in_flight[job_id]
                    self._settle(job, completion)
                    stopping = stopping or (self.options.stop_on_first_crash and self.states[job_id] == "failed")
                    finish(job_id)
                if timeout:
                    now = time.monotonic()
                    expired = [job_id for job_id, deadline in in_flight.items() if deadline <= now]
                    if expired:
                        executor.cancel(expired)
                    for job_id in expired:
                        del in_flight[job_id]
                        reason = f"timed out after {timeout}s (run option timeout)"
                        self._fail(jobs[job_id], jobs[job_id].crash(reason, "Timeout", {}), reason)
                        finish(job_id)
        except BaseException:
            if in_flight:
                log.warning("run interrupted: cancelling %d job(s) in flight", len(in_flight))
                executor.cancel(list(in_flight))
            raise
        finally:
            executor.shutdown()

    def _run_graph_level(self) -> None:
        executor: GraphExecutor = self.executor
        remaining: list[str] = []
        for job_id in self.graph.topological():
            job = self.graph.jobs[job_id]
            if all(self.states.get(p) == "cached" for p in self.graph.parents[job_id]):
                if self._try_cache(job):
                    continue
            else:
                job.hash = None
            remaining.append(job_id)
        subgraph = self.graph.subgraph(remaining)
        for job in subgraph:
            job.token = self.info.run_id
            self._emit("flowmill_node_submitted", job=job)
        events = _GraphEvents(self)
        self._emit = events.queue_notify
        outcome: dict[str, Any] = {}

        def drive() -> None:
            try:
                outcome["pending"] = executor.run_graph(subgraph, {j: self.node_options[j] for j in remaining},
                                                        events)
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                events.inbox.put(_DONE)

        thread = threading.Thread(target=drive, name=f"flowmill-graph-{self.info.run_id}", daemon=True)
        try:
            if remaining:
                thread.start()
                while (item := events.inbox.get()) is not _DONE:
                    self._drain_started()
                    event, kwargs = item
                    notify(event, run=self.info, **kwargs)
                self._drain_started()
        except BaseException:
            with self._lock:
                unreported = [j for j in remaining if j not in self.states]
            log.warning("run interrupted: cancelling %d job(s) of the graph", len(unreported))
            executor.cancel(unreported)
            thread.join(timeout=30)
            raise
        finally:
            executor.shutdown()
            self._emit = self._notify_now
        while not events.inbox.empty():
            item = events.inbox.get()
            if item is not _DONE:
                notify(item[0], run=self.info, **item[1])
        if "error" in outcome:
            raise outcome["error"]
        pending = set(outcome.get("pending") or ())
        for job_id in remaining:
            if job_id in self.states:
                continue
            if job_id in pending:
                self.states[job_id] = "pending"
            else:
                reason = "the backend ended the run without reporting this job"
                self._fail(self.graph.jobs[job_id], self.graph.jobs[job_id].crash(reason, "JobLost", {}), reason)


class _GraphEvents:
    """The callbacks a graph-level executor reports through. Completions are settled
    in the caller's thread (so ``blocked`` sees failures at once); observer events are
    queued and delivered on the driver thread."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.inbox: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def queue_notify(self, event: str, **kwargs: Any) -> None:
        self.inbox.put((event, kwargs))

    def completed(self, completion: Completion) -> None:
        runner = self.runner
        with runner._lock:
            if completion.job_id not in runner.states:
                runner._settle(runner.graph.jobs[completion.job_id], completion)

    def blocked(self, job_id: str) -> bool:
        runner = self.runner
        with runner._lock:
            if runner.states.get(job_id) == "skipped":
                return True
            blocker = runner._blocker(job_id)
            if blocker is None:
                return False
            runner._skip(job_id, blocker)
            return True
