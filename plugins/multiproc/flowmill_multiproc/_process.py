"""The driver's handle on one worker process: fork it, hand it a job, learn when the
job is done or the worker died, kill it with everything it started.

Workers are forked from the driver rather than started as new interpreters: a fork
costs milliseconds and the worker has every module the driver imported, where a
fresh ``python`` spends a third of a second starting up before its first job.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Callable, Iterable, Sequence

import cloudpickle

import flowmill.backend as api

from ._worker import serve


def _fork_worker(job_in: int, reply_out: int, close: Sequence[int]) -> int:
    """Fork a worker serving the pipes ``job_in`` and ``reply_out``; its pid.

    Never from the main thread: Python runs its at-fork callbacks (logging's lock
    release) in the forking thread, and a Ctrl-C arriving then would raise inside
    one, where Python swallows it. Signal handlers run in the main thread only, so a
    fork from another thread leaves the interrupt to be raised where the driver can
    act on it."""
    if threading.current_thread() is threading.main_thread():
        forked: list[int] = []
        helper = threading.Thread(target=lambda: forked.append(_fork_worker(job_in, reply_out, close)))
        helper.start()
        try:
            helper.join()
        finally:
            helper.join()  # an interrupted join still waits the milliseconds of the fork
        return forked[0]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for fd in close:
            os.close(fd)
        os.setsid()
        serve(Connection(job_in, writable=False), Connection(reply_out, readable=False))
    return pid


class WorkerProcess:
    """A worker (see ``_worker``) and the driver thread that reads its replies.

    ``on_done(worker, job_id)`` is called from that thread when a job finished;
    ``on_exit(worker, exit_code)`` once, when the worker is gone (killed, crashed or
    closed). ``inherited`` are the pipe ends of the other workers, which the new one
    closes at once: a worker holding another's lifeline would keep it alive. The
    worker runs in a session of its own, so a Ctrl-C in the terminal reaches the
    driver only, which decides what to stop.
    """

    def __init__(self, on_done: Callable[["WorkerProcess", str], None],
                 on_exit: Callable[["WorkerProcess", int], None], inherited: Iterable[int]) -> None:
        job_in, job_out = os.pipe()
        reply_in, reply_out = os.pipe()
        try:
            self.pid = _fork_worker(job_in, reply_out, (job_out, reply_in, *inherited))
        except BaseException:
            for fd in (job_out, reply_in):  # a worker forked meanwhile sees its lifeline close
                os.close(fd)
            raise
        finally:
            os.close(job_in)
            os.close(reply_out)
        self._jobs = Connection(job_out, readable=False)
        self._replies = Connection(reply_in, writable=False)
        self._on_done = on_done
        self._on_exit = on_exit
        threading.Thread(target=self._read, name=f"flowmill-multiproc-{self.pid}", daemon=True).start()

    @property
    def fds(self) -> list[int]:
        """The driver's ends of this worker's pipes that are still open."""
        return [end.fileno() for end in (self._jobs, self._replies) if not end.closed]

    def run(self, job: api.Job) -> None:
        self._jobs.send_bytes(cloudpickle.dumps(job))

    def _read(self) -> None:
        try:
            while True:
                self._on_done(self, self._replies.recv_bytes().decode())
        except (EOFError, OSError):
            pass
        self._kill_group()
        self._on_exit(self, os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1]))

    def kill(self) -> None:
        """Stop the worker and everything its job started, now. The worker leads a
        process group of its own, which a signal reaches at once, also a child its
        job is forking at that moment (walking the tree alone would miss it); the
        tree walk then catches processes that left the group."""
        self._kill_group()
        api.kill_process_tree(self.pid)

    def _kill_group(self) -> None:
        """SIGKILL the worker's process group. Also once the worker is gone: a worker
        killed from outside leaves what its job started (reparented, out of reach
        of a tree walk) in the group, which must not run on beside the job's retry.
        Sent before the worker is reaped, so its pid, the group's id, cannot be reused."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        """Close the lifeline: an idle worker exits, a busy one kills its job's tree.
        Called under the pool's lock, as is :meth:`release`, so that a worker forked
        meanwhile never closes a descriptor number the driver just reused."""
        if not self._jobs.closed:
            self._jobs.close()

    def release(self) -> None:
        """Close the driver's ends of a worker that is gone."""
        self.close()
        self._replies.close()
