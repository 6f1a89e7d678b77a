"""A child process of each Ruffus pool worker that runs its jobs.

A node killed by a signal, the OOM killer or a crash in C code should cost its job,
not the pool worker (whose death the pool survives, see ``_pool``, but at the price
of a fork and of the Ruffus job's other flowmill jobs waiting for a new worker). Jobs
therefore run in a long-lived child of the worker: if the child dies, the worker
survives, reports the job lost with how the child ended, and starts a new child for
the next one. A child per worker, not per job: forking a worker for every job doubled the
cost of a trivial node (copy-on-write faults in the worker after each fork).

The child is also what the run's ``timeout`` and the driver's ``cancel`` stop: its
process tree is killed, the worker survives. With one job at a time (``n_procs=1``,
or ``max_jobs=1``) Ruffus runs jobs in the driver's own thread, which then gets a
sandbox of its own for the run, released when the run ends.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from multiprocessing.connection import Connection, Pipe

import cloudpickle
from flowmill.backend import kill_process_tree

from ._lifeline import die_with_parent
from ._outcome import Outcome, execute


class Sandbox:
    """This worker's child; started on first use, again after it died."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int:
        """The child's pid (started now if needed): what the driver kills to cancel a job."""
        if self._pid is None:
            self._start()
        assert self._pid is not None
        return self._pid

    def run(self, payload: bytes, timeout: float | None) -> Outcome:
        """Run a job pickled with cloudpickle; kill it after ``timeout`` seconds."""
        if self._connection is None:
            self._start()
        assert self._pid is not None and self._connection is not None
        try:
            self._connection.send_bytes(payload)
            if timeout is not None and not self._connection.poll(timeout):
                kill_process_tree(self._pid)
                self._reap()
                return "timeout", f"timed out after {timeout}s (run option timeout)"
            return self._connection.recv()
        except (EOFError, OSError):
            return "lost", f"the process running the job {self._reap()} before the job finished"

    def _start(self) -> None:
        ours, theirs = Pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.close()
            die_with_parent(parent)
            _serve(theirs)
        theirs.close()
        self._pid, self._connection = pid, ours

    def _reap(self) -> str:
        """Collect the dead child; say how it ended."""
        assert self._pid is not None and self._connection is not None
        self._connection.close()
        _, wait_status = os.waitpid(self._pid, 0)
        self._pid = self._connection = None
        code = os.waitstatus_to_exitcode(wait_status)
        return f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"

    def close(self) -> None:
        """Let the child end (it exits when its pipe closes) and collect it."""
        if self._connection is not None:
            self._reap()


def _serve(connection: Connection) -> None:
    """The child: run jobs until the worker goes away; never return into the worker's code."""
    code = 0
    try:
        while True:
            try:
                payload = connection.recv_bytes()
            except EOFError:
                break
            try:
                job = cloudpickle.loads(payload)
            except Exception as exc:
                outcome: Outcome = ("lost", f"the job could not be unpickled in the worker process: {exc}")
            else:
                outcome = execute(job)
            sys.stdout.flush()
            sys.stderr.flush()
            connection.send(outcome)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


_sandboxes: dict[tuple[int, int], Sandbox] = {}


def sandbox() -> Sandbox:
    """This thread's sandbox (keyed by pid too: a forked process must not share its
    parent's; by thread, since runs in two threads of a driver each run jobs)."""
    return _sandboxes.setdefault((os.getpid(), threading.get_ident()), Sandbox())


def release() -> None:
    """Stop this thread's sandbox, if it has one (a driver thread at the end of a run)."""
    own = _sandboxes.pop((os.getpid(), threading.get_ident()), None)
    if own is not None:
        own.close()
