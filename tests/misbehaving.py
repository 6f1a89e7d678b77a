"""A harness of misbehaving executors, like pytest's ``pytester`` for plugins: a
correct job-level and a correct graph-level executor on threads, and subclasses that
each make one mistake a backend author makes, so the core's tests show what the core
(or the conformance kit) says about each. ``misbehaving(executor_class)`` registers a
backend named ``"misbehaving"`` built from the class, through the public API only."""

from __future__ import annotations

import concurrent.futures as cf
import graphlib
import multiprocessing
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import flowmill
import flowmill.backend as api


@dataclass(frozen=True)
class NoOptions:
    """The harness's backends have no options."""


class ThreadJobs:
    """A correct job-level executor: each job runs on a thread of a pool."""

    slots: int | None = 2

    def __init__(self, context: api.RunContext) -> None:
        self.context = context
        self.pool = cf.ThreadPoolExecutor(2)
        self.done = api.CompletionQueue()

    def run(self, job: api.Job) -> None:
        self.context.started(job.id)
        job.execute()
        self.report(job)

    def report(self, job: api.Job) -> None:
        self.done.put(api.Completion(job.id))

    def submit(self, job: api.Job, options: Any) -> None:
        self.pool.submit(self.run, job)

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        return self.done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        pass

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class ThreadGraph:
    """A correct graph-level executor: the graph in topological order, one job at a
    time, asking the core before each job and obeying its verdicts."""

    def __init__(self, context: api.RunContext) -> None:
        self.context = context

    def may_run(self, events: api.GraphEvents, job_id: str) -> bool:
        return not events.blocked(job_id)

    def attempt(self, job: api.Job, events: api.GraphEvents) -> api.Verdict:
        self.context.started(job.id)
        job.execute()
        return events.completed(api.Completion(job.id))

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        for job_id in graphlib.TopologicalSorter(graph.parents).static_order():
            if self.may_run(events, job_id):
                while self.attempt(graph.jobs[job_id], events) == api.Verdict.RESUBMIT:
                    pass
        return []

    def cancel(self, job_ids: Sequence[str]) -> None:
        pass

    def shutdown(self) -> None:
        pass


def _serve_jobs(jobs: "multiprocessing.Queue[Any]", done: "multiprocessing.Queue[Any]") -> None:
    while (job := jobs.get()) is not None:
        job.execute()
        done.put(job.id)


class ProcessGraph(ThreadGraph):
    """A correct graph-level executor that runs the jobs, one at a time, in a worker
    process it forks. Like a scheduler whose workers vanish, it cannot tell when the
    worker died (its queues do not close): only ``alive`` can."""

    def __init__(self, context: api.RunContext) -> None:
        super().__init__(context)
        forking = multiprocessing.get_context("fork")
        self.jobs: "multiprocessing.Queue[Any]" = forking.Queue()
        self.done: "multiprocessing.Queue[Any]" = forking.Queue()
        self.worker = forking.Process(target=_serve_jobs, args=(self.jobs, self.done), daemon=True)
        self.worker.start()

    def attempt(self, job: api.Job, events: api.GraphEvents) -> api.Verdict:
        self.context.started(job.id)
        self.jobs.put(job)
        if self.done.get() is None:
            return api.Verdict.SETTLED  # shut down
        return events.completed(api.Completion(job.id))

    def alive(self) -> str | None:
        if self.worker.is_alive():
            return None
        return f"worker process {self.worker.pid} exited with {self.worker.exitcode}"

    def shutdown(self) -> None:
        self.done.put(None)
        self.worker.kill()
        self.worker.join()


# -- job-level mistakes -------------------------------------------------------------

class ReportsTwice(ThreadJobs):
    def report(self, job: api.Job) -> None:
        self.done.put(api.Completion(job.id))
        self.done.put(api.Completion(job.id))


class LostAfterDone(ThreadJobs):
    def report(self, job: api.Job) -> None:
        self.done.put(api.Completion(job.id))
        self.done.put(api.Completion(job.id, api.Status.LOST, "worker vanished"))


class ReportsUnknownJob(ThreadJobs):
    def report(self, job: api.Job) -> None:
        self.done.put(api.Completion(job.id + "-typo"))


class ZeroSlots(ThreadJobs):
    slots = 0


class DoneWithoutRunning(ThreadJobs):
    def run(self, job: api.Job) -> None:
        self.report(job)


class SubmitRaises(ThreadJobs):
    """Its first ``failures`` submits raise (a scheduler refusing the job)."""

    failures = 1

    def submit(self, job: api.Job, options: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("qsub: connection refused")
        super().submit(job, options)


class WaitNeverReports(ThreadJobs):
    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        time.sleep(min(timeout or 0.1, 0.1))
        return []


class WaitBlocks(ThreadJobs):
    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        threading.Event().wait()
        return []


# -- graph-level mistakes -----------------------------------------------------------

class GraphReportsTwice(ThreadGraph):
    def attempt(self, job: api.Job, events: api.GraphEvents) -> api.Verdict:
        verdict = super().attempt(job, events)
        events.completed(api.Completion(job.id))
        return verdict


class IgnoresBlocked(ThreadGraph):
    def may_run(self, events: api.GraphEvents, job_id: str) -> bool:
        events.blocked(job_id)
        return True


class RunGraphRaises(ThreadGraph):
    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        raise RuntimeError("scheduler connection lost")


class RunGraphSilent(ThreadGraph):
    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        return []


class RunGraphBlocks(ThreadGraph):
    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        threading.Event().wait()
        return []


class MisbehavingPlugin:
    """Declares the backend ``misbehaving``, built from one executor class."""

    def __init__(self, executor: type, capabilities: api.Capabilities | None = None) -> None:
        self.executor = executor
        self.capabilities = capabilities or api.Capabilities(reports_starts=True)

    @flowmill.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [api.Backend("misbehaving", f"{self.executor.__name__} (test harness)", 2, NoOptions,
                            self.capabilities)]

    @flowmill.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any, context: api.RunContext) -> Any:
        return self.executor(context)
