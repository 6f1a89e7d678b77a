"""Starts of Grid Engine jobs, for the live display: DRMAA reports when a job ends,
never when it starts. The job's worker writes a holder record into its node directory
the moment the node starts (``flowmill.backend.running_holder``), so a thread of the
run looks, every ``SWEEP`` seconds, at the directories of the jobs not yet seen
started, and reports each one it finds with the host, pid and Grid Engine id of its
job. A job that ends between two looks shows as queued until it ends: the display
is the only thing that waits on this (the run's timeout is Grid Engine's ``h_rt``)."""

from __future__ import annotations

import threading
from typing import Callable, Mapping

import flowmill.backend as api

SWEEP = 5.0
"""Seconds between two looks: an open() per job not yet started, each time."""

Tracked = Callable[[], Mapping[str, tuple[api.Job, str | None]]]
"""The jobs to look at: Grid Engine id -> (job, the run token its worker runs under)."""


class StartWatch:
    """The thread that reports starts; ``stop`` ends it."""

    def __init__(self, tracked: Tracked, started: Callable[..., None]) -> None:
        self._tracked = tracked
        self._started = started
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="flowmill-sge-starts", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(SWEEP):
            self.sweep()

    def sweep(self) -> None:
        """Report every tracked job whose worker started its node under its token."""
        for sge_id, (job, token) in self._tracked().items():
            if sge_id in self._seen:
                continue
            holder = api.running_holder(job.dir)
            if holder is not None and holder["run"] == token:
                self._seen.add(sge_id)
                self._started(job.id, f"{api.process_place(holder['pid'], holder['host'])} (SGE job {sge_id})")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
