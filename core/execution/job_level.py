"""The driver for executors that take ready jobs one at a time (``JobExecutor``).

The ready-queue is :class:`graphlib.TopologicalSorter`, so a run costs O(nodes +
edges); the driver sleeps in the executor's ``wait`` until a job completes or the
next timeout is due, never polling, and logs what is in flight when the executor stays
silent for ``HEARTBEAT_SECONDS``. It caps jobs in flight at the smaller of the
executor's ``slots`` and the run's ``max_jobs``. A ``submit`` that raises loses the
job (retried like any lost job), with the backend's error in the crash file.
"""

from __future__ import annotations

import graphlib
import logging
import time
import traceback
from collections import deque
from typing import Sequence

from .._errors import PluginError, ValidationError
from ..contract.states import Status, Verdict
from ..contract.types import Completion, JobExecutor
from ..store.places import process_place
from . import runner as policy
from .job import Job
from .liveness import Liveness
from .runner import Runner

START_NOTICE = 1.0
"""Seconds at most between a start reported from an executor's thread and the moment
observers (the live display) hear of it."""

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
        self.unsubmitted: list[Completion] = []
        """Losses of jobs whose ``submit`` raised, collected with the next completions."""
        self.quiet_since = self.last_beat = time.monotonic()
        slots = self.executor.slots
        if slots is not None and (isinstance(slots, bool) or not isinstance(slots, int) or slots < 1):
            raise PluginError(f"backend {runner.info.backend!r}: its executor's slots is {slots!r}; it must be "
                              "a positive int (jobs it takes at once) or None (no cap but the run's max_jobs)")
        limits = [n for n in (slots, runner.options.max_jobs) if n]
        self.capacity = min(limits) if limits else float("inf")
        self.batching = callable(getattr(self.executor, "submit_batch", None))
        self.liveness = Liveness(self.executor)
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
                elif self.jobs[job_id].in_driver:
                    self._run_here(self.jobs[job_id])
                else:
                    submit.append(self.jobs[job_id])
            for job in submit:
                runner.submitted(job)
                self.in_flight.add(job.id)
            if submit:
                self._hand_over(submit)

    def _hand_over(self, jobs: list[Job]) -> None:
        """Submit jobs (a batch when there are several); if the executor raises, they
        are lost, and come back through the runner's retries. A PluginError or
        ValidationError is the backend's deliberate refusal (a scheduler rejecting a
        job's specification): it ends the run, as from ``run_graph``."""
        options = self.runner.node_options[jobs[0].id]
        try:
            if len(jobs) > 1:
                self.executor.submit_batch(jobs, options)  # type: ignore[attr-defined]
            else:
                self.executor.submit(jobs[0], options)
        except (PluginError, ValidationError):
            raise
        except Exception as exc:
            reason = f"backend {self.runner.info.backend!r} failed to submit it: {type(exc).__name__}: {exc}"
            log.warning("%s (%s)", reason, ", ".join(job.id for job in jobs))
            details = {"backend": self.runner.info.backend, "traceback": traceback.format_exc()}
            self.unsubmitted.extend(Completion(job.id, Status.LOST, reason, details) for job in jobs)

    def _run_here(self, job: Job) -> None:
        """Run a job in the driver, now: a node too small to be worth a submission
        (nipype's ``run_without_submitting``, e.g. a pass-through node)."""
        runner = self.runner
        runner.submitted(job)
        runner.job_started(job.id, process_place())
        job.execute()
        runner.drain_started()
        runner.complete(Completion(job.id))
        self._finish(job.id)

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
        if self.unsubmitted:
            completions, self.unsubmitted = [*self.unsubmitted, *self.executor.wait(0)], []
        else:
            completions = self._wait()
        runner.drain_started()
        if completions:
            self.liveness.heard()
        elif (reason := self.liveness.idle()) is not None:
            held = sorted(self.in_flight)
            runner.backend_gone(reason, held)
            self._cancel(held)
        for completion in completions:
            job_id = completion.job_id
            verdict = runner.complete(completion)
            if job_id not in self.in_flight:
                continue
            if verdict == Verdict.RESUBMIT:
                job = self.jobs[job_id]
                runner.submitted(job)
                self._hand_over([job])
                continue
            self.in_flight.discard(job_id)
            self._finish(job_id)
        expired = runner.expire()
        if expired:
            self._cancel(expired)

    def _wait(self) -> Sequence[Completion]:
        """The executor's completions, waiting at most until the next timeout is due,
        and at most ``START_NOTICE`` seconds while a job in flight has not been reported
        started (an executor's thread may report it meanwhile: observers hear of it when
        this thread wakes); a silence of ``HEARTBEAT_SECONDS`` is logged with what is in
        flight."""
        deadline = self.liveness.wait_for(self.runner.next_deadline_in())
        if self._unstarted():
            deadline = START_NOTICE if deadline is None else min(deadline, START_NOTICE)
        beat = policy.HEARTBEAT_SECONDS
        completions = self.executor.wait(beat if deadline is None else min(deadline, beat))
        now = time.monotonic()
        if completions:
            self.quiet_since = self.last_beat = now
        elif now - self.last_beat >= beat:
            self.runner.heartbeat(now - self.quiet_since)
            self.last_beat = now
        return completions

    def _unstarted(self) -> bool:
        running = self.runner.running
        return any(job_id not in running for job_id in self.in_flight)

    def _cancel(self, job_ids: list[str]) -> None:
        """Jobs the runner settled while the executor held them: stop them there."""
        held = [job_id for job_id in job_ids if job_id in self.in_flight]
        if held:
            self.executor.cancel(held)
        for job_id in held:
            self.in_flight.discard(job_id)
            self._finish(job_id)
