"""A batch scheduler on this host, for testing a cluster backend's logic on a laptop
(as parsl's local provider does): submit, a batched status query and cancel; a queue
delay; job arrays and dependency holds; and faults on request (a job the scheduler
loses, kills, or fails without running). Jobs are real processes: the command given,
typically ``python -m flowmill.worker JOBFILE``.

States, as the status query reports them: ``"queued"`` (waiting for its delay, its
holds or a free slot), ``"running"``, ``"exited N"`` (N: exit status, negative for a
signal), and ids the scheduler lost are missing from the answer, as a real scheduler
forgets a job.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from .._processes import kill_process_tree


@dataclass
class _Job:
    command: list[str]
    holds: tuple[str, ...]
    log: Path | None
    ready_at: float
    process: subprocess.Popen[bytes] | None = None
    state: str = "queued"
    fault: str | None = None
    started: float | None = field(default=None, repr=False)


class FakeBatch:
    """The scheduler; a thread starts jobs and reaps them. ``slots`` jobs run at once;
    each waits ``queue_delay`` seconds in the queue first. ``queries`` counts status
    queries, so a test can check a backend polls in batches."""

    def __init__(self, slots: int = 4, queue_delay: float = 0.0, tick: float = 0.02) -> None:
        self.slots = slots
        self.queue_delay = queue_delay
        self.tick = tick
        self.queries = 0
        self.submitted: list[str] = []
        self._jobs: dict[str, _Job] = {}
        self._faults: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fakebatch", daemon=True)
        self._thread.start()

    # -- what a backend calls ---------------------------------------------------------

    def submit(self, command: Sequence[str], *, holds: Sequence[str] = (), log: Path | None = None) -> str:
        """Queue one job; it starts after every job in ``holds`` ended, however it ended."""
        return self.submit_array([command], holds=holds, logs=[log])[0]

    def submit_array(self, commands: Sequence[Sequence[str]], *, holds: Sequence[str] = (),
                     logs: Sequence[Path | None] | None = None) -> list[str]:
        """Queue an array job: one id ``N.i`` per command (i from 1)."""
        with self._lock:
            array = next(self._ids)
            ids = [f"{array}.{i}" if len(commands) > 1 else str(array) for i in range(1, len(commands) + 1)]
            ready = time.monotonic() + self.queue_delay
            for job_id, command, log in zip(ids, commands, logs or [None] * len(commands)):
                fault = self._faults.pop(0) if self._faults else None
                self._jobs[job_id] = _Job(list(command), tuple(holds), log, ready, fault=fault)
            self.submitted.extend(ids)
        return ids

    def status(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The state of each of these jobs, in one query; lost jobs are missing."""
        with self._lock:
            self.queries += 1
            return {job_id: self._jobs[job_id].state for job_id in job_ids
                    if job_id in self._jobs and self._jobs[job_id].fault != "lost"}

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Dequeue these jobs, or kill them (and their children) if running."""
        with self._lock:
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is None or job.state.startswith("exited"):
                    continue
                if job.process is not None:
                    kill_process_tree(job.process.pid)
                    job.process.wait()
                job.state = "exited -9"

    # -- faults, for tests ---------------------------------------------------------------

    def fault_next(self, *faults: str) -> None:
        """The next submitted jobs get these faults, in order: ``"lost"`` (runs, but the
        scheduler forgets it), ``"killed"`` (killed once running), ``"failed"`` (ends
        with exit status 1 without running its command)."""
        with self._lock:
            self._faults.extend(faults)

    def kill(self, job_id: str) -> None:
        """Kill a running job, as a scheduler enforcing a limit would."""
        with self._lock:
            job = self._jobs[job_id]
            if job.process is not None:
                kill_process_tree(job.process.pid)

    def shutdown(self) -> None:
        self._closed.set()
        self._thread.join()
        self.cancel(list(self._jobs))

    # -- the scheduler's loop -------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed.wait(self.tick):
            with self._lock:
                self._reap()
                self._start()

    def _reap(self) -> None:
        for job in self._jobs.values():
            if job.state == "running" and job.process is not None and job.process.poll() is not None:
                job.state = f"exited {job.process.returncode}"

    def _start(self) -> None:
        running = sum(job.state == "running" for job in self._jobs.values())
        now = time.monotonic()
        for job in self._jobs.values():
            if running >= self.slots:
                return
            if job.state != "queued" or job.ready_at > now or not self._holds_ended(job):
                continue
            if job.fault == "failed":
                job.state = "exited 1"
                continue
            output = open(job.log, "ab") if job.log is not None else subprocess.DEVNULL
            try:
                job.process = subprocess.Popen(job.command, stdout=output, stderr=subprocess.STDOUT,
                                               start_new_session=True)
            finally:
                if job.log is not None:
                    output.close()  # type: ignore[union-attr]
            job.state, job.started = "running", now
            running += 1
            if job.fault == "killed":
                kill_process_tree(job.process.pid)

    def _holds_ended(self, job: _Job) -> bool:
        return all(self._jobs[hold].state.startswith("exited") for hold in job.holds if hold in self._jobs)

    def states(self) -> Mapping[str, str]:
        """Every job's state, including lost ones (for a test's assertions)."""
        with self._lock:
            return {job_id: job.state for job_id, job in self._jobs.items()}
