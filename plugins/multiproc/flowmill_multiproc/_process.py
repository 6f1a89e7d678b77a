"""The driver's handle on one worker process: fork it, hand it a job, learn when the
job is done or the worker died, kill it with everything it started.

Workers are forked from the driver rather than started as new interpreters: a fork
costs milliseconds and the worker has every module the driver imported, where a
fresh ``python`` spends a third of a second starting up before its first job.
"""

from __future__ import annotations

import os
import sys
import threading
from multiprocessing.connection import Connection
from typing import Callable, Iterable

import cloudpickle

import flowmill.backend as api

from ._worker import serve


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
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            for fd in (job_out, reply_in, *inherited):
                os.close(fd)
            os.setsid()
            serve(Connection(job_in, writable=False), Connection(reply_out, readable=False))
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
        self._on_exit(self, os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1]))

    def kill(self) -> None:
        """Stop the worker and everything its job started, now."""
        api.kill_process_tree(self.pid)

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
