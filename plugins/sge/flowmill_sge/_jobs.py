"""The job-level executor: the core schedules, each ready node becomes one DRMAA job.

``wait`` sleeps on a completion queue that the session's reader thread fills the
moment DRMAA reports a job's end, so the driver uses no CPU while jobs run and wakes
at once. The run's ``timeout`` goes with every job as ``-l h_rt``.
"""

from __future__ import annotations

from typing import Sequence

import flowmill.backend as api

from . import _spec as spec
from ._cluster import Cluster
from ._locate import Installation
from ._options import SGEOptions


class SGEJobExecutor:
    """Submits ready jobs one by one; the core's runner decides when."""

    slots = None

    def __init__(self, installation: Installation, options: SGEOptions, context: api.RunContext) -> None:
        self._done = api.CompletionQueue()
        self.cluster = Cluster(installation, options, context, self._done.put, self._done.fail)

    def submit(self, job: api.Job, options: SGEOptions) -> None:
        if self.cluster.adopt([job], lambda job, adopted: True):
            return
        job.write()
        native = spec.native_spec(job, options, time_limit=self.cluster.time_limit)
        request = spec.request(job, native, spec.launch_command(job, self.cluster.env_file), self.cluster.env)
        self.cluster.submit([job], [request], {job.id: options})

    def submit_batch(self, jobs: Sequence[api.Job], options: SGEOptions) -> None:
        """The ready elements of one MapNode, as one job array (runBulkJobs)."""
        adopted = self.cluster.adopt(jobs, lambda job, adopted: True)
        fresh = [job for job in jobs if job.id not in adopted]
        if len(fresh) == 1:
            self.submit(fresh[0], options)
        elif fresh:
            for job in fresh:
                job.write()
            native = spec.native_spec(fresh[0], options, time_limit=self.cluster.time_limit)
            request = spec.array_request(fresh, native, self.cluster.env_file, self.cluster.env)
            self.cluster.submit(fresh, [request], {job.id: options for job in fresh})

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        return self._done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        self.cluster.cancel(job_ids)

    def shutdown(self) -> None:
        self.cluster.close()
