"""Ruffus' process pool, replaced by one that survives the death of a worker.

Python's ``multiprocessing.Pool``, which Ruffus uses in ``multiprocess`` mode, waits
forever for a task whose worker process died (SIGKILL, the OOM killer): the run hung,
although every other node had finished. This pool hands each Ruffus job to one worker
over a pipe of its own, so the driver knows which worker holds which job. When a
worker dies, the driver kills its process group (its sandbox and whatever the node
started: the worker leads the group), the link reports the flowmill job it was
running as lost (``lost(pid, how)``, which asks the core for its verdict), and the
Ruffus job goes to a new worker, where the jobs the core already settled do not run
again (see ``LocalLink``).

Workers are forked from whichever driver thread needs one (the run's thread, or the
thread that saw a worker die), so they cannot ask the kernel for ``PR_SET_PDEATHSIG``,
which fires when the forking *thread* ends: they watch the driver through a pidfd.

Ruffus builds its pool as ``ruffus.task.ProcessPool(n)`` inside ``pipeline_run``;
:func:`recovering` makes that build this pool for a flowmill run in the calling
thread, and Python's own pool for anyone else.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator, NoReturn

import ruffus.task

from ._lifeline import exit_with

Lost = Callable[[int, str], None]
"""Told the pid of a worker that died holding a Ruffus job, and how it ended."""

_END = object()
_local = threading.local()


@contextmanager
def recovering(lost: Lost) -> Iterator[None]:
    """While the body runs, a pool Ruffus builds in this thread is a :class:`RecoveringPool`."""
    ruffus.task.ProcessPool = process_pool
    _local.lost = lost
    try:
        yield
    finally:
        del _local.lost


def process_pool(processes: int) -> Any:
    """What ``ruffus.task.ProcessPool`` is once a flowmill run installed it. Without
    pidfds (not Linux, or Linux before 5.3) a flowmill run gets Python's pool too."""
    lost = getattr(_local, "lost", None)
    if lost is None or not hasattr(os, "pidfd_open"):
        return multiprocessing.Pool(processes)
    return RecoveringPool(processes, lost)


class _Worker:
    """The driver's handle on one worker: its pipes, a pidfd that says when it died,
    and the Ruffus job it holds."""

    def __init__(self, pid: int, jobs: Connection, replies: Connection) -> None:
        self.pid = pid
        self.jobs = jobs
        self.replies = replies
        self.pidfd = os.pidfd_open(pid)
        self.task: tuple[Callable[[Any], Any], Any] | None = None
        self.reader: threading.Thread | None = None


class RecoveringPool:
    """The part of ``multiprocessing.Pool`` Ruffus uses (``imap_unordered`` once per
    run, ``close``, ``terminate``), with up to ``processes`` workers started on demand."""

    def __init__(self, processes: int, lost: Lost) -> None:
        self._size = processes
        self._lost = lost
        self._driver = os.getpid()
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Callable[[Any], Any], Any]] = deque()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._results: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._owed = 0
        """Ruffus jobs taken from its feeder and not yet answered."""
        self._fed = False
        self._closed = False

    def imap_unordered(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> "_Results":
        threading.Thread(target=self._feed, args=(func, iterable), name="flowmill-ruffus-feeder",
                         daemon=True).start()
        return _Results(self._results)

    def close(self) -> None:
        """No new job starts (Ruffus calls ``terminate`` next)."""
        with self._lock:
            self._closed = True

    def terminate(self) -> None:
        """Kill every worker with its process group, and collect them."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
        for worker in workers:
            _kill_group(worker.pid)
        for worker in workers:
            if worker.reader is not None:
                worker.reader.join()

    def _feed(self, func: Callable[[Any], Any], iterable: Iterable[Any]) -> None:
        """Take Ruffus' jobs as its feeder yields them (it blocks until jobs are ready)."""
        try:
            for item in iterable:
                with self._lock:
                    self._owed += 1
                    self._waiting.append((func, item))
                    self._dispatch()
        finally:
            with self._lock:
                self._fed = True
                self._end_if_done()

    def _end_if_done(self) -> None:
        if self._fed and self._owed == 0:
            self._results.put(_END)

    def _dispatch(self) -> None:
        """Give waiting jobs to idle workers, forking new ones up to the pool's size
        (caller holds the lock)."""
        while self._waiting and not self._closed:
            if self._idle:
                worker = self._idle.pop()
            elif len(self._workers) < self._size:
                worker = self._spawn()
            else:
                return
            worker.task = self._waiting.popleft()
            try:
                worker.jobs.send(worker.task)
            except OSError:
                pass  # the worker just died: its reader gives the job to another

    def _spawn(self) -> _Worker:
        """Fork a worker (caller holds the lock, so no other fork runs meanwhile and
        the child can close the driver's ends of every other worker's pipes)."""
        job_in, job_out = os.pipe()
        reply_in, reply_out = os.pipe()
        inherited = [end.fileno() for other in self._workers for end in (other.jobs, other.replies)]
        inherited += [other.pidfd for other in self._workers]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            for fd in (job_out, reply_in, *inherited):
                os.close(fd)
            os.setpgid(0, 0)
            exit_with(self._driver)
            _serve(Connection(job_in, writable=False), Connection(reply_out, readable=False))
        try:
            os.setpgid(pid, pid)  # also here: the driver may kill the group before the child set it
        except OSError:
            pass
        os.close(job_in)
        os.close(reply_out)
        worker = _Worker(pid, Connection(job_out, readable=False), Connection(reply_in, writable=False))
        self._workers.add(worker)
        worker.reader = threading.Thread(target=self._read, args=(worker,), name=f"flowmill-ruffus-pool-{pid}",
                                         daemon=True)
        worker.reader.start()
        return worker

    def _read(self, worker: _Worker) -> None:
        """Deliver the worker's answers to Ruffus until it dies."""
        while True:
            ready = wait([worker.replies, worker.pidfd])
            if worker.replies not in ready:
                break
            try:
                answer = worker.replies.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                worker.task = None
                self._owed -= 1
                self._results.put(answer)
                self._idle.append(worker)
                self._dispatch()
                self._end_if_done()
        self._gone(worker)

    def _gone(self, worker: _Worker) -> None:
        """A dead worker: kill its group (before reaping it, so that its pid, the
        group's id, is not reused), report its job's loss, hand the job on."""
        _kill_group(worker.pid)
        code = os.waitstatus_to_exitcode(os.waitpid(worker.pid, 0)[1])
        with self._lock:
            for end in (worker.jobs, worker.replies):
                end.close()
            os.close(worker.pidfd)
            self._workers.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            task, worker.task = worker.task, None
            closed = self._closed
        if task is None or closed:
            return
        how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        self._lost(worker.pid, how)
        with self._lock:
            self._waiting.appendleft(task)
            self._dispatch()


class _Results:
    """The iterator ``imap_unordered`` returns: answers in the order they come."""

    def __init__(self, results: "queue.SimpleQueue[Any]") -> None:
        self._results = results

    def __iter__(self) -> "_Results":
        return self

    def __next__(self) -> Any:
        return self.next()

    def next(self, timeout: float | None = None) -> Any:
        try:
            answer = self._results.get(timeout=timeout)
        except queue.Empty:
            raise multiprocessing.TimeoutError from None
        if answer is _END:
            self._results.put(_END)
            raise StopIteration
        return answer


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _serve(jobs: Connection, replies: Connection) -> NoReturn:
    """The worker: run Ruffus jobs until the pool closes its pipe; never return into
    the driver's code."""
    code = 0
    try:
        while True:
            try:
                func, item = jobs.recv()
            except EOFError:
                break
            replies.send(func(item))
    except BaseException:
        code = 1
    finally:
        os._exit(code)
