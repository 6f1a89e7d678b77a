"""The qmaster's heartbeat, taken in the DRMAA helper (see ``_server``).

A qmaster that stops (an upgrade, a failover) leaves the jobs running under sge_execd,
but every DRMAA call fails and ``drmaa_wait`` says nothing: without a check of its own
a run would sit silent, and after the restart the qmaster may keep listing as running
jobs whose end it never heard of (measured: 90 s and more, until the execd restarts).
So while jobs are outstanding the helper asks the qmaster about one of them every
``PING_INTERVAL`` seconds and tells the driver ``("scheduler", event)``:

* ``{"state": "down", "for": s}`` at the first unanswered ping and every
  ``WARN_INTERVAL`` seconds after;
* ``{"state": "up", "after": s}`` when it answers again; for ``CHASE`` seconds the
  helper then asks the status of every outstanding job itself and reports those the
  qmaster no longer runs, since their ends may have been lost with the restart;
* ``{"state": "gave_up", "for": s}`` once the outage is longer than the run's
  ``scheduler_patience``; the driver fails the run.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from drmaa.errors import InvalidJobException

PING_INTERVAL = 5.0
"""Seconds between two questions to the qmaster while jobs are outstanding."""

WARN_INTERVAL = 15.0
"""Seconds between two warnings while the qmaster does not answer."""

CHASE = 300.0
"""Seconds after an outage during which outstanding jobs are polled for ends the
restart swallowed."""

ENDED = ("gone", "done", "failed", "undetermined")
"""Job states (``_server.Server._status``) after which no end will come from drmaa_wait."""


class SchedulerWatch:
    """Pings the qmaster through ``status(job_id)`` (raising a transient DRMAA error
    when it does not answer) and reports as described in the module docstring."""

    def __init__(self, *, outstanding: Callable[[], list[str]], status: Callable[[str], Any],
                 ended: Callable[[str, str], None], notify: Callable[[dict[str, Any]], None],
                 transient: tuple[type[BaseException], ...], patience: float, stop: threading.Event) -> None:
        self._outstanding = outstanding
        self._status = status
        self._ended = ended
        self._notify = notify
        self._transient = transient
        self._patience = patience
        self._stop = stop
        self._probe: str | None = None
        self._answered = time.monotonic()
        self._down_since: float | None = None
        self._warned = 0.0
        self._chase_until = 0.0

    def run(self) -> None:
        while not self._stop.wait(PING_INTERVAL):
            jobs = self._outstanding()
            self._probe = jobs[0] if jobs else self._probe
            if self._probe is None or (not jobs and self._down_since is None):
                continue
            if not self._answers():
                if not self._still_patient():
                    return
                continue
            if time.monotonic() < self._chase_until:
                self._chase(jobs)

    def _ask(self, job_id: str, answer: list[bool]) -> None:
        try:
            self._status(job_id)
        except self._transient:
            answer.append(False)
            return
        except Exception:
            pass  # an answer, even "no such job", means the qmaster is there
        answer.append(True)

    def _answers(self) -> bool:
        """One question to the qmaster, given ``PING_INTERVAL`` seconds (a qmaster in the
        middle of shutting down may accept the connection and say nothing: the call
        then blocks far longer, and is left to end by itself); reports a change of state."""
        answer: list[bool] = []
        asking = threading.Thread(target=self._ask, args=(self._probe, answer), name="drmaa-ping", daemon=True)
        asking.start()
        asking.join(PING_INTERVAL)
        if not answer or not answer[0]:
            if self._down_since is None:
                self._down_since = self._answered
                self._warned = 0.0
            return False
        now = self._answered = time.monotonic()
        if self._down_since is not None:
            self._notify({"state": "up", "after": now - self._down_since})
            self._down_since = None
            self._chase_until = now + CHASE
        return True

    def _still_patient(self) -> bool:
        assert self._down_since is not None
        now = time.monotonic()
        down_for = now - self._down_since
        if down_for > self._patience:
            self._notify({"state": "gave_up", "for": down_for})
            return False
        if now - self._warned >= WARN_INTERVAL:
            self._warned = now
            self._notify({"state": "down", "for": down_for})
        return True

    def _chase(self, jobs: list[str]) -> None:
        for job_id in jobs:
            try:
                state = str(self._status(job_id))
            except InvalidJobException:
                state = "gone"
            except self._transient:
                return
            if state in ENDED:
                self._ended(job_id, state)
