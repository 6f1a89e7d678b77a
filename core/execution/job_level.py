"""The driver for executors that take ready jobs one at a time (``JobExecutor``).

The ready-queue is :class:`graphlib.TopologicalSorter`, so a run costs O(nodes +
edges); the driver sleeps in the executor's ``wait`` until a job completes or the
next timeout is due, never polling. It caps jobs in flight at the smaller of the
executor's ``slots`` and the run's ``max_jobs``.
"""

from __future__ import annotations

import graphlib
import logging
from collections import deque

from ..contract.states import Verdict
from ..contract.types import JobExecutor
from .job import Job
from .liveness import Liveness
from .runner import Runner

log = logging.getLogger("flowmill")


class JobLevelDriver:
    """Moves jobs between the runner's policy and a job-level executor."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.executor: JobExecutor = runner.executor
        self.jobs = runner.graph.jobs
        self.sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(runner.graph.parents)
        self.ready: deque[str] = deque()
        self.in_flight: set[str] = set()
        limits = [n for n in (self.executor.slots, runner.options.max_jobs) if n]
        self.capacity = min(limits) if limits else float("inf")
        self.batching = callable(getattr(self.executor, "submit_batch", None))
        self.liveness = Liveness(self.executor, runner.info.backend)
        runner.doomed = self._cancel

    def run(self) -> None:
        self.sorter.prepare()
        self.ready.extend(self.sorter.get_ready())
        try:
            while self.sorter.is_active():
                self._dispatch()
                if self.in_flight:
                    self._collect()
        except BaseException:
            if self.in_flight:
                log.warning("run interrupted: cancelling %d job(s) in flight", len(self.in_flight))
                self.executor.cancel(sorted(self.in_flight))
            raise
        finally:
            self.executor.shutdown()

    def _finish(self, job_id: str) -> None:
        self.sorter.done(job_id)
        self.ready.extend(self.sorter.get_ready())

    def _dispatch(self) -> None:
        """Hand ready jobs to the executor while there is room; the cache and the
        policy answer the rest on the spot."""
        runner = self.runner
        while self.ready and len(self.in_flight) < self.capacity:
            submit: list[Job] = []
            for job_id in self._take_batch():
                if runner.blocked(job_id) or runner.try_cache(self.jobs[job_id]):
                    self._finish(job_id)
                else:
                    submit.append(self.jobs[job_id])
            for job in submit:
                runner.submitted(job)
                self.in_flight.add(job.id)
            if len(submit) > 1:
                self.executor.submit_batch(submit, runner.node_options[submit[0].id])  # type: ignore[attr-defined]
            elif submit:
                self.executor.submit(submit[0], runner.node_options[submit[0].id])

    def _take_batch(self) -> list[str]:
        """The next ready job, with every ready sibling of the same MapNode when the
        executor offers ``submit_batch`` (e.g. to send them as one job array)."""
        first = self.ready.popleft()
        group = self.jobs[first].group
        if group is None or not self.batching:
            return [first]
        batch = [first] + [job_id for job_id in self.ready if self.jobs[job_id].group == group]
        if len(batch) > 1:
            taken = set(batch)
            kept = [job_id for job_id in self.ready if job_id not in taken]
            self.ready.clear()
            self.ready.extend(kept)
        return batch

    def _collect(self) -> None:
        """Wait for completions or the next timeout, and act on the runner's verdicts."""
        runner = self.runner
        completions = self.executor.wait(self.liveness.wait_for(runner.next_deadline_in()))
        runner.drain_started()
        if completions:
            self.liveness.heard()
        elif (reason := self.liveness.idle(self.in_flight)) is not None:
            held = sorted(self.in_flight)
            runner.backend_gone(reason, held)
            self._cancel(held)
        for completion in completions:
            job_id = completion.job_id
            if job_id not in self.in_flight:
                continue
            if runner.complete(completion) == Verdict.RESUBMIT:
                job = self.jobs[job_id]
                runner.submitted(job)
                self.executor.submit(job, runner.node_options[job_id])
                continue
            self.in_flight.discard(job_id)
            self._finish(job_id)
        expired = runner.expire()
        if expired:
            self._cancel(expired)

    def _cancel(self, job_ids: list[str]) -> None:
        """Jobs the runner settled while the executor held them: stop them there."""
        held = [job_id for job_id in job_ids if job_id in self.in_flight]
        if held:
            self.executor.cancel(held)
        for job_id in held:
            self.in_flight.discard(job_id)
            self._finish(job_id)
