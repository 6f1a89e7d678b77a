"""How a job running inside a Ruffus task talks to the driver.

Ruffus discards return values and stops scheduling at the first exception, so jobs
never fail towards Ruffus: each job asks the driver whether it may start (the driver
says no when the core settled it: an ancestor failed, the run stops at its first
crash, or the job was cancelled), then reports how it ended and hears the core's
verdict (run it again, or done). Both calls are synchronous: when a Ruffus job
returns, the driver has already settled its jobs, so the next task's checks see every
failure before it.

With threads, jobs call :class:`LocalLink` directly. In ``multiprocess`` mode jobs run
in a sandbox process (see ``_sandbox``) and call it through :class:`RemoteLink`, a
``multiprocessing.connection`` client of the :class:`LinkServer` that the driver runs
in a thread: observers hear of a job starting and ending from the driver process, as
the core requires, and the driver knows which process to kill when it cancels a job.
"""

from __future__ import annotations

import os
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar

import cloudpickle
import flowmill.backend as api

from ._outcome import Outcome, execute
from ._sandbox import sandbox

Work = TypeVar("Work")


class Link(Protocol[Work]):
    """``begin`` hands out the job in the form ``run`` takes, or None if it must not
    run; ``end`` reports how it ended and answers True when the core wants it run again."""

    def begin(self, job_id: str) -> Work | None: ...

    def run(self, work: Work) -> Outcome: ...

    def end(self, job_id: str, status: str, reason: str) -> bool: ...


class LocalLink:
    """The driver's side: turns begin/end into the core's graph events, remembers
    which jobs were cancelled or settled, and which processes run each job; runs jobs
    in the calling thread."""

    def __init__(self, jobs: Mapping[str, api.Job], events: api.GraphEvents,
                 started: Callable[..., None], details: Mapping[str, Any]) -> None:
        self._jobs = jobs
        self._events = events
        self._started = started
        self._details = dict(details)
        self._lock = threading.Lock()
        self._reported = threading.Condition(self._lock)
        self._cancelled: set[str] = set()
        self._settled: set[str] = set()
        """Jobs whose last report the core settled: a Ruffus job handed to a new pool
        worker (its first one died) skips them."""
        self._reporting: set[str] = set()
        """Jobs whose report awaits the core's verdict: a new worker asking to begin
        one waits for it (its first worker may have died right after reporting)."""
        self._runners: dict[str, int] = {}
        """Job id -> pid of the sandbox process running it (multiprocess mode)."""
        self._holders: dict[str, int | None] = {}
        """Job id -> pid of the pool worker that began it (None in threads): only the
        holder's report counts."""
        self._dead: set[int] = set()
        """Pool workers reported dead: a request of theirs still on its way is refused."""

    def begin(self, job_id: str, runner: int | None = None, worker: int | None = None) -> api.Job | None:
        """The job, if it may start; ``runner`` is the process that will run it (None:
        this one, in threads), which the core hears as where the job runs; ``worker``
        the pool worker that asks."""
        with self._lock:
            self._reported.wait_for(lambda: job_id not in self._reporting)
            if (job_id in self._cancelled or job_id in self._settled or worker in self._dead
                    or self._events.blocked(job_id)):
                return None
            if runner is not None:
                self._runners[job_id] = runner
            self._holders[job_id] = worker
        self._started(job_id, api.process_place(runner))
        return self._jobs[job_id]

    run = staticmethod(execute)

    def end(self, job_id: str, status: str, reason: str, worker: int | None = None) -> bool:
        """Report the attempt; a cancelled job is not reported (the core settled it),
        nor one whose worker the driver already reported dead."""
        with self._lock:
            if self._holders.get(job_id, -1) != worker:
                return False
            del self._holders[job_id]
            self._runners.pop(job_id, None)
            if job_id in self._cancelled:
                return False
            self._reporting.add(job_id)
        return self._report(api.Completion(job_id, api.Status(status), reason, self._details))

    def worker_gone(self, pid: int, how: str) -> None:
        """A pool worker died: the jobs it held are lost (the pool hands its Ruffus
        job to another worker, which runs them again if the core says so)."""
        with self._lock:
            self._dead.add(pid)
            held = [job_id for job_id, holder in self._holders.items() if holder == pid]
            for job_id in held:
                del self._holders[job_id]
                self._runners.pop(job_id, None)
            held = [job_id for job_id in held if job_id not in self._cancelled]
            self._reporting.update(held)
        for job_id in held:
            self._report(api.Completion(job_id, api.Status.LOST, f"the Ruffus pool worker (pid {pid}) running it {how}",
                                        {**self._details, "pid": pid}))

    def _report(self, completion: api.Completion) -> bool:
        """The core's verdict: True when it wants the job run again."""
        again = False
        try:
            again = self._events.completed(completion) == api.Verdict.RESUBMIT
        finally:
            with self._lock:
                self._reporting.discard(completion.job_id)
                if not again:
                    self._settled.add(completion.job_id)
                self._reported.notify_all()
        return again

    def cancel(self, job_ids: Sequence[str]) -> None:
        """These jobs never start; a running one is killed with its process tree
        (in threads it cannot be, and finishes unreported)."""
        with self._lock:
            self._cancelled.update(job_ids)
            runners = [self._runners.pop(job_id) for job_id in job_ids if job_id in self._runners]
        for pid in runners:
            api.kill_process_tree(pid)


class LinkServer:
    """Serves a :class:`LocalLink` to worker processes, one thread per connection."""

    def __init__(self, link: LocalLink, timeout: float | None) -> None:
        self._link = link
        authkey = os.urandom(32)
        self._listener = Listener(family="AF_UNIX", authkey=authkey)
        self.client = RemoteLink(self._listener.address, authkey, timeout)
        self._closing = False
        self._accepter = threading.Thread(target=self._accept, name="flowmill-ruffus-link", daemon=True)
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
                    connection.send(self._answer(method, job_id, args))
                except (EOFError, OSError):
                    return

    def _answer(self, method: str, job_id: str, args: list[Any]) -> bytes | bool | None:
        """Always answers, so a worker never waits forever on a driver-side error."""
        if method == "end":
            return self._link.end(job_id, *args)
        runner, worker = args
        while (job := self._link.begin(job_id, runner, worker)) is not None:
            try:
                return cloudpickle.dumps(job)
            except Exception as exc:
                if not self._link.end(job_id, "lost", f"the job could not be sent to a worker process: {exc}", worker):
                    return None
        return None

    def close(self) -> None:
        """Stop accepting (a connection of our own wakes the accepting thread), and
        close what the driver opened when it ran jobs itself (``n_procs=1``)."""
        self._closing = True
        try:
            Client(self._listener.address, authkey=self.client.authkey).close()
        except OSError:
            pass
        self._accepter.join()
        self._listener.close()
        own = _connections.pop((self.client.address, os.getpid()), None)
        if own is not None:
            own.close()


_connections: dict[tuple[str, int], Connection] = {}
"""This process's connection to each driver it reports to."""


class RemoteLink:
    """The worker's side of :class:`LinkServer`; pickles as its address and key. Jobs
    stay pickled until they reach the worker's sandbox, where they run, and where they
    are stopped after the run's ``timeout`` or when the driver cancels them."""

    def __init__(self, address: str, authkey: bytes, timeout: float | None) -> None:
        self.address = address
        self.authkey = authkey
        self.timeout = timeout

    def _call(self, *message: Any) -> Any:
        key = (self.address, os.getpid())
        connection = _connections.get(key)
        if connection is None:
            connection = _connections[key] = Client(self.address, authkey=self.authkey)
        connection.send(message)
        return connection.recv()

    def begin(self, job_id: str) -> bytes | None:
        return self._call("begin", job_id, sandbox().pid, os.getpid())

    def run(self, work: bytes) -> Outcome:
        return sandbox().run(work, self.timeout)

    def end(self, job_id: str, status: str, reason: str) -> bool:
        return self._call("end", job_id, status, reason, os.getpid())
