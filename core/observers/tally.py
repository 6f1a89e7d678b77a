"""The state of a run as a progress display shows it: counts by fate, the nodes in
flight, elapsed time and an estimate of what is left. Updated on the driver thread
by the progress observer; a display refreshing on a thread of its own reads a
consistent ``snapshot`` under the lock."""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field

STATES = ("queued", "running", "done", "cached", "failed", "skipped")


@dataclass(frozen=True)
class Snapshot:
    """What a display draws at one moment."""

    total: int
    counts: dict[str, int]
    elapsed: float
    eta: float | None
    running: list[tuple[str, float, str | None]]
    """Nodes reported started, with the seconds each has run and where it runs (None:
    the backend did not say), longest first."""
    failures: list[tuple[str, str, str]]
    """(node, error, crash file) of every failure so far."""

    @property
    def settled(self) -> int:
        return sum(self.counts[state] for state in ("done", "cached", "failed", "skipped"))

    def counts_line(self) -> str:
        return " ".join(f"{state} {self.counts[state]}" for state in STATES if self.counts[state] or state == "done")


@dataclass
class Tally:
    total: int
    started: float = field(default_factory=time.monotonic)
    queued: set[str] = field(default_factory=set)
    running: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    """Job id -> (when it was reported started, where it runs)."""
    settled: dict[str, int] = field(default_factory=lambda: {"done": 0, "cached": 0, "failed": 0, "skipped": 0})
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    first_dispatch: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submitted(self, job_id: str) -> None:
        with self.lock:
            if self.first_dispatch is None:
                self.first_dispatch = time.monotonic()
            self.queued.add(job_id)

    def started_job(self, job_id: str, where: str | None = None) -> None:
        with self.lock:
            self.queued.discard(job_id)
            self.running[job_id] = (time.monotonic(), where)

    def settle(self, job_id: str, fate: str) -> None:
        with self.lock:
            self.queued.discard(job_id)
            self.running.pop(job_id, None)
            self.settled[fate] += 1

    def failed(self, job_id: str, error: str, crash_file: str) -> None:
        self.settle(job_id, "failed")
        with self.lock:
            self.failures.append((job_id, error, crash_file))

    def snapshot(self, running_limit: int = 8) -> Snapshot:
        now = time.monotonic()
        with self.lock:
            counts = {"queued": len(self.queued), "running": len(self.running), **self.settled}
            longest = heapq.nsmallest(running_limit, self.running.items(), key=lambda item: item[1][0])
            running = [(job_id, now - since, where) for job_id, (since, where) in longest]
            failures = list(self.failures)
        worked = counts["done"] + counts["failed"]
        left = self.total - sum(self.settled.values())
        eta = None
        if self.first_dispatch is not None and worked:
            eta = (now - self.first_dispatch) / worked * left
        return Snapshot(self.total, counts, now - self.started, eta, running, failures)


def seconds(value: float | None) -> str:
    """``95.2`` -> ``1m35s``; None -> ``?``."""
    if value is None:
        return "?"
    minutes, secs = divmod(int(round(value)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{value:.2f}s" if value < 10 else f"{value:.1f}s"
