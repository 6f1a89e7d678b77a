"""Waits that are bounded: a backend can go quiet for good (every IPython engine
killed, a scheduler that lost its jobs, a graph executor's workers gone), and the
driver would wait for a completion that never comes. So while the driver is idle it
asks the executor every ``CHECK_EVERY`` seconds whether it can still finish anything
(the optional ``alive()`` of a job-level or graph-level executor: a reason when it
cannot, else None). A backend that declares itself dead fails the jobs it held as
lost, naming the reason, and the run stops; a graph executor gets ``GRACE`` seconds
more to return from ``run_graph``, and is then left behind. Both drivers use this one
clock. (What the driver says while it waits is the runner's heartbeat.)
"""

from __future__ import annotations

import time
from typing import Any

CHECK_EVERY = 5.0
GRACE = 2.0


class Liveness:
    """The idle clock of one driver."""

    def __init__(self, executor: Any) -> None:
        self._alive = getattr(executor, "alive", None)
        self._checked = time.monotonic()

    def heard(self) -> None:
        """A completion arrived."""
        self._checked = time.monotonic()

    def wait_for(self, deadline_in: float | None) -> float | None:
        """How long the next wait may block: until the next deadline or the next check."""
        if self._alive is None:
            return deadline_in
        until_check = max(0.0, self._checked + CHECK_EVERY - time.monotonic())
        return until_check if deadline_in is None else min(deadline_in, until_check)

    def idle(self) -> str | None:
        """After a wait without completions: the backend's reason if it declares itself dead."""
        now = time.monotonic()
        if self._alive is None or now - self._checked < CHECK_EVERY:
            return None
        self._checked = now
        return self._alive()
