"""Observer plugins the conformance cases use: one that records what each node went
through, in order, and one that breaks on every event."""

from __future__ import annotations

import threading
from typing import Any

from ..contract.markers import hookimpl


class EventLog:
    """An observer plugin that records which events each node got."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        """(event, node) in the order the driver delivered them."""
        self.because: dict[str, str] = {}
        """Why each skipped node was skipped (a failed node's id, or stop_on_first_crash)."""
        self.lock = threading.Lock()

    def _add(self, event: str, job: Any) -> None:
        with self.lock:
            self.events.append((event, job.id))

    def of(self, event: str) -> set[str]:
        return {node for name, node in self.events if name == event}

    @hookimpl
    def flowmill_node_started(self, job: Any) -> None:
        self._add("started", job)

    @hookimpl
    def flowmill_node_finished(self, job: Any) -> None:
        self._add("finished", job)

    @hookimpl
    def flowmill_node_cached(self, job: Any) -> None:
        self._add("cached", job)

    @hookimpl
    def flowmill_node_failed(self, job: Any) -> None:
        self._add("failed", job)

    @hookimpl
    def flowmill_node_skipped(self, job: Any, because: str) -> None:
        self.because[job.id] = because
        self._add("skipped", job)


class BrokenObserver:
    """An observer that raises on every event: runs must not notice."""

    @hookimpl
    def flowmill_node_finished(self, job: Any) -> None:
        raise RuntimeError("observer bug")

    @hookimpl
    def flowmill_run_started(self, run: Any) -> None:
        raise RuntimeError("observer bug")
