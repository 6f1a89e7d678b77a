"""How a job running inside a Ruffus task talks to the driver.

Ruffus discards return values and stops scheduling at the first exception, so jobs
never fail towards Ruffus: each job asks the driver whether it may start (the driver
says no when an ancestor failed, and then records it skipped), then reports how it
ended. Both calls are synchronous: when a Ruffus job returns, the driver has already
settled its jobs, so the next task's checks see every failure before it.

With threads the job calls :class:`RunReporter` directly. Worker processes call it
through :class:`RemoteReporter`, a ``multiprocessing.connection`` client of the
:class:`ReportServer` that the driver runs in a thread: observers hear of a job
starting and ending from the driver process, as the core requires.
"""

from __future__ import annotations

import os
import threading
from multiprocessing.connection import Client, Connection, Listener
from multiprocessing import AuthenticationError
from typing import Any, Callable, Mapping, Protocol

import cloudpickle

import flowmill


class Reporter(Protocol):
    def begin(self, job_id: str) -> flowmill.Job | None:
        """The job to run, or None if it must not run (ancestor failed, run cancelled)."""
        ...

    def end(self, job_id: str, status: str, reason: str) -> None: ...


class RunReporter:
    """The driver's side: turns begin/end into the core's graph events."""

    def __init__(self, jobs: Mapping[str, flowmill.Job], events: flowmill.GraphEvents,
                 started: Callable[[str], None], details: Mapping[str, Any]) -> None:
        self._jobs = jobs
        self._events = events
        self._started = started
        self._details = dict(details)
        self.cancelled = False

    def begin(self, job_id: str) -> flowmill.Job | None:
        if self.cancelled or self._events.blocked(job_id):
            return None
        self._started(job_id)
        return self._jobs[job_id]

    def end(self, job_id: str, status: str, reason: str) -> None:
        self._events.completed(flowmill.Completion(job_id, status, reason, self._details))  # type: ignore[arg-type]


class ReportServer:
    """Serves a :class:`RunReporter` to worker processes, one thread per connection."""

    def __init__(self, reporter: RunReporter) -> None:
        self._reporter = reporter
        authkey = os.urandom(32)
        self._listener = Listener(family="AF_UNIX", authkey=authkey)
        self.client = RemoteReporter(self._listener.address, authkey)
        self._closing = False
        self._accepter = threading.Thread(target=self._accept, name="flowmill-ruffus-reports", daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):
                if self._closing:
                    return
                continue
            if self._closing:
                connection.close()
                return
            threading.Thread(target=self._serve, args=(connection,), name="flowmill-ruffus-worker",
                             daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while True:
                try:
                    method, job_id, *args = connection.recv()
                except (EOFError, OSError):
                    return
                connection.send(self._answer(method, job_id, args))

    def _answer(self, method: str, job_id: str, args: list[Any]) -> bytes | None:
        """Always answers, so a worker never waits forever on a driver-side error."""
        if method == "end":
            self._reporter.end(job_id, *args)
            return None
        job = self._reporter.begin(job_id)
        if job is None:
            return None
        try:
            return cloudpickle.dumps(job)
        except Exception as exc:
            self._reporter.end(job_id, "lost", f"the job could not be sent to a worker process: {exc}")
            return None

    def close(self) -> None:
        """Stop accepting; a connection of our own wakes the accepting thread."""
        self._closing = True
        try:
            Client(self._listener.address, authkey=self.client.authkey).close()
        except OSError:
            pass
        self._accepter.join()
        self._listener.close()


_connections: dict[tuple[str, int], Connection] = {}
"""This worker process's connection to each driver it reports to."""


class RemoteReporter:
    """The worker's side of :class:`ReportServer`; pickles as its address and key."""

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey

    def _call(self, *message: Any) -> Any:
        key = (self.address, os.getpid())
        connection = _connections.get(key)
        if connection is None:
            connection = _connections[key] = Client(self.address, authkey=self.authkey)
        connection.send(message)
        return connection.recv()

    def begin(self, job_id: str) -> flowmill.Job | None:
        payload = self._call("begin", job_id)
        return None if payload is None else cloudpickle.loads(payload)

    def end(self, job_id: str, status: str, reason: str) -> None:
        self._call("end", job_id, status, reason)
