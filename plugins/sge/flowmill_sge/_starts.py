"""Starts of Grid Engine jobs, for the live display: DRMAA reports when a job ends,
never when it starts. The job's worker writes a holder record into its node directory
the moment the node starts (``flowmill.backend.running_holder``), so the run's sweep
(``_cluster``, every few seconds) looks at the directories of the jobs not yet seen
started, and reports each one it finds with the host, pid and Grid Engine id of its
job. A job that ends between two looks shows as queued until it ends: the display
is the only thing that waits on this (the run's timeout is Grid Engine's ``h_rt``)."""

from __future__ import annotations

from typing import Callable, Mapping

import flowmill.backend as api


class StartWatch:
    """The starts already reported, and how to report one."""

    def __init__(self, started: Callable[..., None]) -> None:
        self._started = started
        self._seen: set[str] = set()

    def sweep(self, tracked: Mapping[str, tuple[api.Job, str | None]]) -> None:
        """Report every job (Grid Engine id -> job, the run token its worker runs
        under) whose worker started its node under its token: an open() per job not
        yet seen started."""
        for sge_id, (job, token) in tracked.items():
            if sge_id in self._seen:
                continue
            holder = api.running_holder(job.dir)
            if holder is not None and holder["run"] == token:
                self._seen.add(sge_id)
                self._started(job.id, f"{api.process_place(holder['pid'], holder['host'])} (SGE job {sge_id})")
