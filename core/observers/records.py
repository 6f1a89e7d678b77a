"""The run record observer: appends what each node of a run did to the run's record
(:mod:`flowmill.store.runs`). The figures of a node that ran are the ones its job
measured where it ran (the result header, or the crash file's ``usage``); the driver
adds only what it alone knows: when the node was queued and how many attempts it took.
Per node this costs one JSON line in a buffered file; cached nodes are written in
batches."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..contract.markers import hookimpl
from ..contract.options import options_as_dict
from ..contract.runinfo import RunInfo
from ..store.results import read_crash
from ..store.runs import RecordWriter, new_record_path

CACHED_BATCH = 1000
"""Cached nodes written per line."""

WORKER_FIELDS = ("host", "pid", "started", "ended", "duration", "cpu_s", "max_rss_kib")


class _Discard:
    """Stands for the record of a run whose record file could not be opened."""

    def write(self, entry: Mapping[str, Any]) -> None:
        """Nothing is written: the failure to open was logged when the run started."""

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class _OpenRun:
    writer: RecordWriter | _Discard
    queued: dict[str, float] = field(default_factory=dict)
    """Submission time (driver clock) of each node in flight."""
    retries: dict[str, int] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)

    def node_line(self, job: Any, state: str, **entry: Any) -> None:
        attempts = 1 + self.retries.pop(job.id, 0)
        self.writer.write({"node": job.id, "state": state, "attempts": attempts,
                           "queued": self.queued.pop(job.id, None), **entry})

    def flush_cached(self) -> None:
        if self.cached:
            self.writer.write({"cached": self.cached})
            self.cached = []


class RunRecords:
    """The observer; one open record per run in progress."""

    def __init__(self) -> None:
        self._runs: dict[str, _OpenRun] = {}

    @hookimpl
    def flowmill_run_started(self, run: RunInfo, graph: Any) -> None:
        started = time.time()
        writer = RecordWriter(new_record_path(run.workflow_dir, run.run_id, started))
        writer.write({"run": run.run_id, "workflow": run.workflow, "workflow_dir": str(run.workflow_dir),
                      "backend": run.backend, "options": options_as_dict(run.options),
                      "backend_options": dict(run.backend_options), "n_jobs": run.n_jobs, "started": started,
                      "driver_host": socket.gethostname(), "driver_pid": os.getpid()})
        writer.write({"parents": {job_id: list(parents) for job_id, parents in graph.parents.items() if parents}})
        self._runs[run.run_id] = _OpenRun(writer)

    def _open(self, run: RunInfo) -> _OpenRun:
        """The run's open record; a run whose record could not be opened (its failure
        was logged once, at the start) gets a sink that writes nothing."""
        return self._runs.get(run.run_id) or _OpenRun(_Discard())

    @hookimpl
    def flowmill_node_submitted(self, run: RunInfo, job: Any) -> None:
        self._open(run).queued[job.id] = time.time()

    @hookimpl
    def flowmill_node_retried(self, run: RunInfo, job: Any, attempt: int, reason: str) -> None:
        self._open(run).retries[job.id] = attempt - 1

    @hookimpl
    def flowmill_node_cached(self, run: RunInfo, job: Any) -> None:
        open_run = self._open(run)
        open_run.cached.append(job.id)
        if len(open_run.cached) >= CACHED_BATCH:
            open_run.flush_cached()

    @hookimpl
    def flowmill_node_finished(self, run: RunInfo, job: Any, report: Mapping[str, Any]) -> None:
        self._open(run).node_line(job, "ran", exit=0, key=report.get("hash"), why=report.get("why"),
                                         **{name: report.get(name) for name in WORKER_FIELDS})

    @hookimpl
    def flowmill_node_failed(self, run: RunInfo, job: Any, error: str, crash_file: str) -> None:
        try:
            crash = read_crash(crash_file)  # type: ignore[arg-type]
        except (OSError, ValueError):
            crash = {}
        usage = crash.get("usage", {})
        details = crash.get("details", {})
        self._open(run).node_line(
            job, "failed", exit=details.get("returncode", crash.get("error_type")), key=job.hash, error=error,
            crash_file=crash_file, **{name: usage.get(name, crash.get(name)) for name in WORKER_FIELDS})

    @hookimpl
    def flowmill_node_skipped(self, run: RunInfo, job: Any, because: str) -> None:
        self._open(run).node_line(job, "skipped", because=because)

    @hookimpl
    def flowmill_run_finished(self, run: RunInfo, result: Any) -> None:
        open_run = self._runs.pop(run.run_id, None)
        if open_run is None:
            return
        open_run.flush_cached()
        for job_id in result.pending:
            open_run.writer.write({"node": job_id, "state": "pending", "queued": open_run.queued.get(job_id)})
        open_run.writer.write({"ended": time.time(), "counts": {state: len(getattr(result, attr)) for state, attr in
                                                                 _COUNTS.items()}})
        open_run.writer.close()

    @hookimpl
    def flowmill_run_aborted(self, run: RunInfo, error: BaseException) -> None:
        open_run = self._runs.pop(run.run_id, None)
        if open_run is not None:
            open_run.flush_cached()
            open_run.writer.write({"ended": time.time(), "aborted": f"{type(error).__name__}: {error}"})
            open_run.writer.close()


_COUNTS = {"ran": "executed", "cached": "cached", "failed": "failed", "skipped": "skipped", "pending": "pending"}

PLUGIN = RunRecords()
