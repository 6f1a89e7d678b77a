"""The job-level executor: the core schedules, each ready node becomes one DRMAA job.

``wait`` sleeps on a queue that the session's reader thread fills the moment DRMAA
reports a job's end, so the driver uses no CPU while jobs run and wakes at once.
"""

from __future__ import annotations

import queue
from typing import Sequence

import flowmill.backend as api

from . import _spec as spec
from ._cluster import Cluster
from ._locate import Installation
from ._options import SGEOptions
from ._outcome import Kind


class SGEJobExecutor:
    """Submits ready jobs one by one; the core's runner decides when."""

    slots = None

    def __init__(self, installation: Installation, options: SGEOptions, context: api.RunContext) -> None:
        self._done: "queue.SimpleQueue[api.Completion | str]" = queue.SimpleQueue()
        self.cluster = Cluster(installation, options, context, self._finished, self._done.put)

    def _finished(self, job: api.Job, kind: Kind, completion: api.Completion) -> None:
        self._done.put(completion)

    def submit(self, job: api.Job, options: SGEOptions) -> None:
        if self.cluster.adopt([job], lambda job, adopted: True):
            return
        job.write()
        request = spec.request(job, options, spec.launch_command(job, self.cluster.env_file), self.cluster.env)
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
            request = spec.array_request(fresh, options, self.cluster.env_file, self.cluster.env)
            self.cluster.submit(fresh, [request], {job.id: options for job in fresh})

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        try:
            first = self._done.get(timeout=timeout)
        except queue.Empty:
            return []
        items = [first]
        while True:
            try:
                items.append(self._done.get_nowait())
            except queue.Empty:
                break
        for item in items:
            if isinstance(item, str):
                raise api.PluginError(f"sge backend: lost the DRMAA session: {item}")
        return items  # type: ignore[return-value]

    def cancel(self, job_ids: Sequence[str]) -> None:
        self.cluster.cancel(job_ids)

    def shutdown(self) -> None:
        self.cluster.close()
