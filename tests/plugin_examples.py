"""Two small backends written against the public contract only, registered in code the
way a third party's test suite would: a thread-pool job-level executor (with batches,
cancellation and a switch that loses jobs, to exercise retries) and a graph-level
executor that runs the graph it is given in topological order on threads."""

from __future__ import annotations

import concurrent.futures as cf
import graphlib
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import cloudpickle

import flowmill
import flowmill.backend as api


@dataclass(frozen=True)
class PoolOptions:
    workers: int = field(default=2, metadata={"help": "threads"})
    lose_first: int = field(default=0, metadata={"help": "report this many submissions as lost"})
    label: str = field(default="", metadata={"help": "a string option, to test the plugin_args merge"})


class PoolExecutor:
    def __init__(self, options: PoolOptions, context: api.RunContext, roundtrip: bool = False) -> None:
        self.roundtrip = roundtrip
        self.slots = options.workers
        self.pool = cf.ThreadPoolExecutor(options.workers)
        self.done: "queue.SimpleQueue[api.Completion]" = queue.SimpleQueue()
        self.context = context
        self.to_lose = options.lose_first
        self.batches: list[list[str]] = []
        self.seen_options: dict[str, PoolOptions] = {}
        self.cancelled: list[str] = []
        self.lock = threading.Lock()

    def _run(self, job: api.Job) -> None:
        with self.lock:
            lose = self.to_lose > 0
            self.to_lose -= lose
        if lose:
            self.done.put(api.Completion(job.id, "lost", "worker vanished", {"worker": "t1"}))
            return
        self.context.started(job.id)
        if self.roundtrip:
            job = cloudpickle.loads(cloudpickle.dumps(job))
        job.execute()
        self.done.put(api.Completion(job.id))

    def submit(self, job: api.Job, options: PoolOptions) -> None:
        self.seen_options[job.id] = options
        self.pool.submit(self._run, job)

    def submit_batch(self, jobs: Sequence[api.Job], options: PoolOptions) -> None:
        self.batches.append([job.id for job in jobs])
        for job in jobs:
            self.submit(job, options)

    def wait(self, timeout: float | None) -> list[api.Completion]:
        try:
            first = self.done.get(timeout=timeout)
        except queue.Empty:
            return []
        found = [first]
        while not self.done.empty():
            found.append(self.done.get())
        return found

    def cancel(self, job_ids: Sequence[str]) -> None:
        self.cancelled.extend(job_ids)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)


class GraphThreads:
    def __init__(self, context: api.RunContext) -> None:
        self.context = context

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        sorter = graphlib.TopologicalSorter(graph.parents)
        sorter.prepare()
        with cf.ThreadPoolExecutor(2) as pool:
            running: dict[cf.Future[Any], str] = {}
            while sorter.is_active():
                for job_id in sorter.get_ready():
                    if events.blocked(job_id):
                        sorter.done(job_id)
                        continue
                    self.context.started(job_id)
                    running[pool.submit(graph.jobs[job_id].execute)] = job_id
                if not running:
                    continue
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    job_id = running.pop(future)
                    events.completed(api.Completion(job_id))
                    sorter.done(job_id)
        return []

    def cancel(self, job_ids: Sequence[str]) -> None:
        pass

    def shutdown(self) -> None:
        pass


@dataclass(frozen=True)
class GraphOptions:
    queue: str = field(default="", metadata={"help": "unused; lets tests pass another backend's option"})


class ExamplePlugin:
    """Declares both example backends; keeps the last executor for inspection."""

    def __init__(self, contract: int = 2) -> None:
        self.contract = contract
        self.last: Any = None

    @flowmill.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [
            api.Backend("pool", "thread pool (test)", self.contract, PoolOptions,
                             api.Capabilities(timeouts="cancel")),
            api.Backend("pickpool", "thread pool pickling every job (test)", self.contract, PoolOptions,
                             api.Capabilities(needs_pickle=True)),
            api.Backend("graphthreads", "graph on threads (test)", self.contract, GraphOptions),
        ]

    @flowmill.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any,
                               context: api.RunContext) -> Any:
        if backend.name in ("pool", "pickpool"):
            self.last = PoolExecutor(options, context, roundtrip=backend.name == "pickpool")
        elif backend.name == "graphthreads":
            self.last = GraphThreads(context)
        else:
            return None
        return self.last
