"""The job-level executor: the core schedules, each ready node becomes one ``sbatch``
(a MapNode's ready elements one job array), and one
:class:`~flowmill.backend.StatusPoller` asks ``squeue`` about every job in flight in
one query per interval, backing off while nothing changes."""

from __future__ import annotations

import threading
from typing import Iterable, Mapping, Sequence

import flowmill.backend as api

from . import _commands, _squeue
from ._options import SlurmOptions
from ._outcome import judge
from ._sbatch import submit


class SlurmJobExecutor:
    """Slurm queues, so ``slots`` is None: the run's ``max_jobs`` is the only cap."""

    slots = None

    def __init__(self, options: SlurmOptions, context: api.RunContext) -> None:
        self.options = options
        self.context = context
        self.timeout = context.run_options.timeout
        self.done = api.CompletionQueue()
        self.jobs: dict[str, api.Job] = {}
        """Slurm id (``N``, or ``N_i`` for an array element) -> job, for the jobs in flight."""
        self.started: set[str] = set()
        self.cancelled: list[str] = []
        """Slurm ids this run scancelled: its end waits for them to be over."""
        self._lock = threading.Lock()
        self.poller = api.StatusPoller(lambda ids: _squeue.query(ids, options.scheduler_patience), self._update,
                                       interval=options.poll_interval, most=options.poll_most,
                                       failed=self.done.fail)

    def submit(self, job: api.Job, options: SlurmOptions) -> None:
        self.submit_batch([job], options)

    def submit_batch(self, jobs: Sequence[api.Job], options: SlurmOptions) -> None:
        """The ready elements of one MapNode as one job array (element i = task i),
        throttled to the run's ``max_jobs`` (``--array=...%N``)."""
        ids = submit(jobs, options, timeout=self.timeout, patience=self.options.scheduler_patience,
                     throttle=self.context.run_options.max_jobs)
        with self._lock:
            self.jobs.update(zip(ids, jobs))
        self.poller.watch(ids)

    def _update(self, states: Mapping[str, _squeue.JobState | None]) -> Iterable[str]:
        """Turn one squeue answer into starts and completions; the ids that ended."""
        ended = []
        for slurm_id, info in states.items():
            with self._lock:
                job = self.jobs.get(slurm_id)
            if job is None:
                continue
            if info is not None and info.running and slurm_id not in self.started:
                self.started.add(slurm_id)
                self.context.started(job.id, info.place(slurm_id))
            if info is not None and not info.ended:
                continue
            with self._lock:
                if self.jobs.pop(slurm_id, None) is None:
                    continue
            ended.append(slurm_id)
            self.done.put(judge(job, slurm_id, info, self.timeout))
        return ended

    def wait(self, timeout: float | None) -> list[api.Completion]:
        return self.done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        doomed = set(job_ids)
        with self._lock:
            ids = [slurm_id for slurm_id, job in self.jobs.items() if job.id in doomed]
            for slurm_id in ids:
                del self.jobs[slurm_id]
        self._scancel(ids)

    def _scancel(self, ids: Sequence[str]) -> None:
        self.poller.forget(ids)
        self.cancelled.extend(ids)
        _commands.scancel(ids, self.options.scheduler_patience)

    def shutdown(self) -> None:
        """Stop polling and scancel whatever is still queued or running (Ctrl-C, an
        error in the driver): nothing of this run outlives it."""
        self.poller.close()
        with self._lock:
            ids = list(self.jobs)
            self.jobs.clear()
        self._scancel(ids)
        _squeue.await_cancelled(self.cancelled, self.options.scheduler_patience, self.context.log)
