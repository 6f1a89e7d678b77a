"""Two small backends written against the public contract only, registered in code the
way a third party's test suite would: a job-level pool that runs each job in a forked
process (with batches, cancellation that kills the process, a queue of its own and a
switch that loses jobs, to exercise retries and the timeout clock), and a graph-level
executor that runs the graph it is given in topological order on threads, asking the
core which jobs may start and obeying its verdicts."""

from __future__ import annotations

import concurrent.futures as cf
import graphlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import cloudpickle

import flowmill
import flowmill.backend as api



def _forked(job: api.Job) -> int:
    """Run the job in a child process; its pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            job.execute()
            code = 0
        finally:
            os._exit(code)
    return pid


@dataclass(frozen=True)
class PoolOptions:
    workers: int = field(default=2, metadata={"help": "jobs running at once, each in a forked process"})
    queued: int = field(default=0, metadata={"help": "jobs accepted beyond workers, waiting in the pool's queue"})
    lose_first: int = field(default=0, metadata={"help": "report this many attempts as lost"})
    lose_after: float = field(default=0.0, metadata={"help": "seconds a lost attempt runs before it is lost"})
    label: str = field(default="", metadata={"help": "a string option, to test the plugin_args merge"})


class PoolExecutor:
    """Job-level: ``workers`` threads each run one job at a time in a forked child
    process, which ``cancel`` kills; the core may submit ``queued`` more jobs than
    can start, which wait here (their clock starts when they start)."""

    def __init__(self, options: PoolOptions, context: api.RunContext, roundtrip: bool = False) -> None:
        self.roundtrip = roundtrip
        self.slots = options.workers + options.queued
        self.pool = cf.ThreadPoolExecutor(options.workers)
        self.done = api.CompletionQueue()
        self.context = context
        self.to_lose = options.lose_first
        self.lose_after = options.lose_after
        self.batches: list[list[str]] = []
        self.seen_options: dict[str, PoolOptions] = {}
        self.cancelled: list[str] = []
        self.children: dict[str, int] = {}
        self.lock = threading.Lock()

    def _run(self, job: api.Job) -> None:
        with self.lock:
            if job.id in self.cancelled:
                return
            lose = self.to_lose > 0
            self.to_lose -= lose
        self.context.started(job.id)
        if lose:
            time.sleep(self.lose_after)
            self.done.put(api.Completion(job.id, api.Status.LOST, "worker vanished", {"worker": "t1"}))
            return
        if self.roundtrip:
            job = cloudpickle.loads(cloudpickle.dumps(job))
        with self.lock:
            if job.id in self.cancelled:
                return
            pid = self.children[job.id] = _forked(job)
        exitcode = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        with self.lock:
            self.children.pop(job.id, None)
            if job.id in self.cancelled:
                return
        if exitcode == 0:
            self.done.put(api.Completion(job.id))
        else:
            self.done.put(api.Completion(job.id, api.Status.LOST, f"the job's process exited with {exitcode}"))

    def submit(self, job: api.Job, options: PoolOptions) -> None:
        self.seen_options[job.id] = options
        self.pool.submit(self._run, job)

    def submit_batch(self, jobs: Sequence[api.Job], options: PoolOptions) -> None:
        self.batches.append([job.id for job in jobs])
        for job in jobs:
            self.submit(job, options)

    def wait(self, timeout: float | None) -> list[api.Completion]:
        return self.done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        with self.lock:
            self.cancelled.extend(job_ids)
            running = [self.children.pop(job_id) for job_id in job_ids if job_id in self.children]
        for pid in running:
            api.kill_process_tree(pid)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)


@dataclass(frozen=True)
class GraphOptions:
    queue: str = field(default="", metadata={"help": "unused; lets tests pass another backend's option"})
    lose_first: int = field(default=0, metadata={"help": "report this many attempts as lost"})


class GraphThreads:
    """Graph-level: runs ready jobs on at most ``max_jobs`` (default 2) threads; a job
    starts only if the core does not block it and it was not cancelled; a job the
    core answers with RESUBMIT runs again. Threads cannot be stopped: no timeouts."""

    def __init__(self, options: GraphOptions, context: api.RunContext) -> None:
        self.context = context
        self.workers = context.run_options.max_jobs or 2
        self.to_lose = options.lose_first
        self.cancelled: set[str] = set()
        self.attempts: list[str] = []
        self.seen_options: dict[str, GraphOptions] = {}
        self.lock = threading.Lock()

    def _attempt(self, job: api.Job) -> api.Completion | None:
        """Run one attempt; None if the job was cancelled before it started."""
        with self.lock:
            if job.id in self.cancelled:
                return None
            self.attempts.append(job.id)
            lose = self.to_lose > 0
            self.to_lose -= lose
        self.context.started(job.id)
        if lose:
            return api.Completion(job.id, api.Status.LOST, "thread vanished")
        job.execute()
        return api.Completion(job.id)

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        self.seen_options = dict(options)
        sorter = graphlib.TopologicalSorter(graph.parents)
        sorter.prepare()
        with cf.ThreadPoolExecutor(self.workers) as pool:
            running: dict[cf.Future[Any], str] = {}
            while sorter.is_active():
                for job_id in sorter.get_ready():
                    if events.blocked(job_id):
                        sorter.done(job_id)
                    else:
                        running[pool.submit(self._attempt, graph.jobs[job_id])] = job_id
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    job_id = running.pop(future)
                    completion = future.result()
                    if completion is not None and events.completed(completion) == api.Verdict.RESUBMIT:
                        running[pool.submit(self._attempt, graph.jobs[job_id])] = job_id
                    else:
                        sorter.done(job_id)
        return []

    def cancel(self, job_ids: Sequence[str]) -> None:
        with self.lock:
            self.cancelled.update(job_ids)

    def shutdown(self) -> None:
        pass


class ExamplePlugin:
    """Declares both example backends; keeps the last executor for inspection."""

    def __init__(self, contract: int = 2) -> None:
        self.contract = contract
        self.last: Any = None

    @flowmill.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [
            api.Backend("pool", "forked process per job (test)", self.contract, PoolOptions,
                        api.Capabilities(needs_pickle=True, timeouts="cancel", reports_starts=True)),
            api.Backend("pickpool", "forked process per job, pickling every job (test)", self.contract,
                        PoolOptions, api.Capabilities(needs_pickle=True)),
            api.Backend("graphthreads", "graph on threads (test)", self.contract, GraphOptions,
                        api.Capabilities(reports_starts=True)),
        ]

    @flowmill.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any,
                               context: api.RunContext) -> Any:
        if backend.name in ("pool", "pickpool"):
            self.last = PoolExecutor(options, context, roundtrip=backend.name == "pickpool")
        elif backend.name == "graphthreads":
            self.last = GraphThreads(options, context)
        else:
            return None
        return self.last
