"""Waits that are bounded and talk.

A backend can go quiet for good: every IPython engine killed, a scheduler that lost
its jobs. The driver then waits for a completion that never comes. So while the
driver is idle (no completion), it asks the executor every ``CHECK_EVERY`` seconds
whether it can still finish anything (the optional ``alive()`` of
:class:`~flowmill.backend.JobExecutor`: a reason when it cannot, else None), and says
every ``WARN_EVERY`` seconds which jobs it is waiting for. A backend that declares
itself dead fails the jobs it held as lost, naming the reason, and the run stops.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Collection

log = logging.getLogger("flowmill")

CHECK_EVERY = 5.0
WARN_EVERY = 60.0


class Liveness:
    """The idle clock of one driver."""

    def __init__(self, executor: Any, backend: str) -> None:
        self._alive = getattr(executor, "alive", None)
        self._backend = backend
        self._heard = self._warned = self._checked = time.monotonic()

    def heard(self) -> None:
        """A completion arrived."""
        self._heard = self._warned = self._checked = time.monotonic()

    def wait_for(self, deadline_in: float | None) -> float | None:
        """How long the next wait may block: until the next deadline or the next check."""
        if self._alive is None and deadline_in is None:
            return max(0.0, self._warned + WARN_EVERY - time.monotonic())
        until_check = max(0.0, min(self._checked + CHECK_EVERY, self._warned + WARN_EVERY) - time.monotonic())
        return until_check if deadline_in is None else min(deadline_in, until_check)

    def idle(self, in_flight: Collection[str]) -> str | None:
        """After a wait without completions: warn if it is time, and the backend's
        reason if it declares itself dead."""
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            shown = sorted(in_flight)
            log.warning("no completion from backend %s for %.0f s; in flight: %s%s", self._backend,
                        now - self._heard, ", ".join(shown[:10]), " ..." if len(shown) > 10 else "")
        if self._alive is None or now - self._checked < CHECK_EVERY:
            return None
        self._checked = now
        return self._alive()
