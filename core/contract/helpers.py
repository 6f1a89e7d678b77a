"""What backends kept writing for themselves: a completion queue that ``wait`` sleeps
on, a bounded back-off for retrying a scheduler or waiting for a file, and the tail of
a job's log for its crash file."""

from __future__ import annotations

import queue
import time
from typing import Iterator

from .types import Completion


class CompletionQueue:
    """Completions put from any thread (a scheduler's callback, a reader thread) and
    taken by ``JobExecutor.wait``, which sleeps until one arrives: no polling. An error
    put with ``fail`` (e.g. the scheduler connection died) is raised by the next wait."""

    def __init__(self) -> None:
        self._items: "queue.SimpleQueue[Completion | BaseException]" = queue.SimpleQueue()

    def put(self, completion: Completion) -> None:
        self._items.put(completion)

    def fail(self, error: BaseException) -> None:
        self._items.put(error)

    def wait(self, timeout: float | None) -> list[Completion]:
        """Every completion available, after blocking up to ``timeout`` for the first."""
        try:
            items = [self._items.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._items.get_nowait())
            except queue.Empty:
                break
        for item in items:
            if isinstance(item, BaseException):
                raise item
        return items  # type: ignore[return-value]


def backoff(first: float = 0.05, most: float = 1.0, within: float | None = None) -> Iterator[float]:
    """Sleep delays that double from ``first`` up to ``most``, one per step, for as
    long as ``within`` seconds allow (forever if None)::

        waits = backoff(within=grace)
        while not ready():
            if next(waits, None) is None:
                give_up()
    """
    deadline = None if within is None else time.monotonic() + within
    delay = first
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            delay = min(delay, left)
        time.sleep(delay)
        yield delay
        delay = min(delay * 2, most)


def tail(path: str, lines: int = 20, limit: int = 8192) -> str:
    """The last ``lines`` lines of a log file (at most ``limit`` bytes read), for a
    crash file; empty if the file is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - limit))
            text = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])
