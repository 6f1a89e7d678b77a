"""``fakebatch``: a small job-level backend for :class:`FakeBatch`, written against
``flowmill.backend`` only, as a Slurm or PBS backend would be: each job is written to
its job file and submitted as ``python -m flowmill.worker JOBFILE``; one
:class:`~flowmill.backend.StatusPoller` asks the scheduler about every job in flight
in one query per interval; the exit status says done (0, or 12: the node failed and
wrote its crash file) or lost (anything else, or a job the scheduler forgot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import flowmill.backend as api

from ._fakebatch import FakeBatch

FAILED_EXIT = 12


@dataclass(frozen=True)
class FakeBatchOptions:
    slots: int = field(default=4, metadata={"merge": "run-only", "help": "jobs the fake scheduler runs at once"})
    queue_delay: float = field(default=0.0, metadata={
        "merge": "run-only", "help": "seconds each job waits in the fake queue before it may start"})
    poll_interval: float = field(default=0.1, metadata={
        "merge": "run-only", "help": "seconds between the batched status queries (the least)"})
    poll_most: float = field(default=1.0, metadata={
        "merge": "run-only", "help": "seconds between status queries at most, backing off while nothing changes"})
    submit_args: str = field(default="", metadata={
        "help": "extra submission arguments (recorded only; appended to the run's for a node)"})


class FakeBatchExecutor:
    """Job-level: the scheduler queues, so ``slots`` is None (no cap here)."""

    slots = None

    def __init__(self, options: FakeBatchOptions, context: api.RunContext) -> None:
        self.context = context
        self.batch = FakeBatch(slots=options.slots, queue_delay=options.queue_delay)
        self.done = api.CompletionQueue()
        self.jobs: dict[str, str] = {}
        """Scheduler id -> job id, for the jobs in flight."""
        self.started: set[str] = set()
        self.submit_args: dict[str, str] = {}
        self.poller = api.StatusPoller(self.batch.status, self._update, interval=options.poll_interval,
                                       most=options.poll_most, failed=self.done.fail)

    def submit(self, job: api.Job, options: FakeBatchOptions) -> None:
        self.submit_batch([job], options)

    def submit_batch(self, jobs: Sequence[api.Job], options: FakeBatchOptions) -> None:
        """One array job for the elements of a MapNode."""
        commands = [[*job.command(), "--failed-exit", str(FAILED_EXIT)] for job in jobs]
        for job in jobs:
            job.write()
            self.submit_args[job.id] = options.submit_args
        ids = self.batch.submit_array(commands, logs=[job.dir / "fakebatch.log" for job in jobs])
        self.jobs.update(zip(ids, (job.id for job in jobs)))
        self.poller.watch(ids)

    def _update(self, states: Mapping[str, str | None]) -> Iterable[str]:
        """Turn one status answer into starts and completions; the ids that ended.
        Only the ids asked about are in ``states`` (a job submitted since waits for
        the next query); None: the scheduler forgot the job."""
        ended = []
        for batch_id, state in states.items():
            if state is not None and not state.startswith("exited"):
                if state == "running" and batch_id not in self.started and batch_id in self.jobs:
                    self.started.add(batch_id)
                    self.context.started(self.jobs[batch_id])
                continue
            ended.append(batch_id)
            job_id = self.jobs.pop(batch_id, None)
            if job_id is not None:
                self.done.put(self._completion(batch_id, job_id, state))
        return ended

    def _completion(self, batch_id: str, job_id: str, state: str | None) -> api.Completion:
        details = {"fakebatch_id": batch_id}
        if state is None:
            return api.Completion(job_id, api.Status.LOST, f"fakebatch job {batch_id} vanished from the scheduler",
                                  details)
        code = int(state.split()[1])
        if code in (0, FAILED_EXIT):
            return api.Completion(job_id, details=details)
        return api.Completion(job_id, api.Status.LOST, f"fakebatch job {batch_id} exited with {code}", details)

    def wait(self, timeout: float | None) -> list[api.Completion]:
        return self.done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        doomed = set(job_ids)
        ids = [batch_id for batch_id, job_id in list(self.jobs.items()) if job_id in doomed]
        for batch_id in ids:
            self.jobs.pop(batch_id, None)
        self.poller.forget(ids)
        self.batch.cancel(ids)

    def shutdown(self) -> None:
        self.poller.close()
        self.batch.shutdown()


class FakeBatchPlugin:
    """Declares ``fakebatch``; register it in code (``flowmill.register``) in a test.
    Keeps the last executor, so a test can look at its scheduler."""

    def __init__(self) -> None:
        self.last: FakeBatchExecutor | None = None

    @api.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [api.Backend("fakebatch", "jobs on a fake batch scheduler on this host (flowmill.testing)", 2,
                            FakeBatchOptions, api.Capabilities(needs_pickle=True, shared_fs=True,
                                                               timeouts="cancel", reports_starts=True))]

    @api.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any, context: api.RunContext) -> Any:
        if backend.name != "fakebatch":
            return None
        self.last = FakeBatchExecutor(options, context)
        return self.last
