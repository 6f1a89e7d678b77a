"""Polling a scheduler that has no completion callbacks (Slurm, PBS, a fake batch
system): one batched status query per interval for every job in flight, never one
query per job, backing off while nothing changes and never faster than the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

log = logging.getLogger("flowmill")

Query = Callable[[Sequence[str]], Mapping[str, Any]]
"""Asks the scheduler about these job ids at once; returns a state per id (an id the
scheduler no longer knows may be missing: the backend decides what that means)."""

Update = Callable[[Mapping[str, Any]], Iterable[str]]
"""Told the answer of each query: a state for every id asked about (None for an id the
scheduler did not answer for), only those; returns the ids that ended (no longer
watched)."""


class StatusPoller:
    """A thread that queries the scheduler for all watched jobs in one call, every
    ``interval`` seconds at first, doubling up to ``most`` while the answers do not
    change, and back to ``interval`` when they do or new jobs are watched. A query that
    raises is logged and retried after the same back-off; ``failed`` (e.g. a
    ``CompletionQueue.fail``) is told after ``give_up`` failures in a row.

    ``queries`` counts the calls, so a test can check the polling is batched."""

    def __init__(self, query: Query, update: Update, *, interval: float = 1.0, most: float = 30.0,
                 give_up: int = 10, failed: Callable[[BaseException], None] | None = None) -> None:
        self.query = query
        self.update = update
        self.interval = interval
        self.most = most
        self.give_up = give_up
        self.failed = failed
        self.queries = 0
        self._watched: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def watch(self, job_ids: Iterable[str]) -> None:
        """Start watching these ids (and poll soon, at the interval's rate)."""
        with self._lock:
            self._watched.update(job_ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="flowmill-status-poller", daemon=True)
                self._thread.start()
        self._wake.set()

    def forget(self, job_ids: Iterable[str]) -> None:
        with self._lock:
            self._watched.difference_update(job_ids)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        delay = self.interval
        previous: Mapping[str, Any] = {}
        failures = 0
        last = time.monotonic() - self.interval
        while not self._closed:
            if self._wake.wait(delay):
                self._wake.clear()
                delay = self.interval
            if self._closed:
                return
            pause = last + self.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            last = time.monotonic()
            with self._lock:
                ids = sorted(self._watched)
            if not ids:
                delay = self.most
                continue
            try:
                self.queries += 1
                answer = self.query(ids)
                states = {job_id: answer.get(job_id) for job_id in ids}
                ended = set(self.update(states))
            except Exception as exc:
                failures += 1
                log.warning("status query for %d job(s) failed (%d in a row): %s", len(ids), failures, exc)
                if failures >= self.give_up and self.failed is not None:
                    self.failed(exc)
                    return
                delay = min(delay * 2, self.most)
                continue
            failures = 0
            self.forget(ended)
            changed = bool(ended) or dict(states) != dict(previous)
            previous = states
            delay = self.interval if changed else min(delay * 2, self.most)
