"""The job-level executor: a queue of submitted jobs, a budget of cores and memory,
and worker processes started on demand (at most ``n_procs``, since every job takes at
least one core).

Everything happens on completion, never on a clock: ``submit`` and each worker's reply
thread start whatever fits in the budget, in submission order, letting a smaller job
pass a larger one that must wait for room. Completions go to a
:class:`~flowmill.backend.CompletionQueue` the core sleeps on. ``cancel`` kills the
worker running a job with its process tree (a worker dies with its job; the next job
gets a new one), and a worker that dies on its own reports its job lost.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Sequence

import flowmill.backend as api

from ._options import MultiProcOptions
from ._process import WorkerProcess


def need(job: api.Job) -> tuple[int, float]:
    """The cores and GiB a job holds while it runs."""
    return job.resources.cpus or 1, job.resources.mem_gb or 0.0


class MultiProcExecutor:
    """See the module docstring. All state is guarded by one lock, taken by the
    driver thread (submit, cancel, shutdown) and by the workers' reply threads."""

    slots = None

    def __init__(self, options: MultiProcOptions, context: api.RunContext) -> None:
        self._context = context
        self._cpus = options.n_procs
        self._mem = options.memory_gb
        self._lock = threading.Lock()
        self._queue: deque[api.Job] = deque()
        self._idle: list[WorkerProcess] = []
        self._workers: set[WorkerProcess] = set()
        self._running: dict[str, WorkerProcess] = {}
        self._held: dict[str, tuple[int, float]] = {}
        self._done = api.CompletionQueue()

    def submit(self, job: api.Job, options: Any) -> None:
        with self._lock:
            self._queue.append(job)
            self._dispatch()

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        return self._done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        doomed = set(job_ids)
        with self._lock:
            self._queue = deque(job for job in self._queue if job.id not in doomed)
            killed = [self._release(job_id) for job_id in doomed if job_id in self._running]
        for worker in killed:
            worker.kill()

    def shutdown(self) -> None:
        with self._lock:
            self._queue.clear()
            busy = [self._release(job_id) for job_id in list(self._running)]
            for worker in self._workers:
                worker.close()
        for worker in busy:
            worker.kill()

    def _dispatch(self) -> None:
        """Start queued jobs while they fit (caller holds the lock)."""
        waiting: deque[api.Job] = deque()
        while self._queue and self._cpus > 0:
            job = self._queue.popleft()
            cpus, mem = need(job)
            if cpus > self._cpus or mem > self._mem:
                waiting.append(job)
                continue
            worker = self._idle.pop() if self._idle else self._spawn()
            self._cpus -= cpus
            self._mem -= mem
            self._held[job.id] = (cpus, mem)
            self._running[job.id] = worker
            try:
                worker.run(job)
            except OSError:
                continue  # the worker just died: its reply thread reports the job lost
            self._context.started(job.id, api.process_place(worker.pid))
        waiting.extend(self._queue)
        self._queue = waiting

    def _spawn(self) -> WorkerProcess:
        worker = WorkerProcess(self._finished, self._exited,
                               [fd for other in self._workers for fd in other.fds])
        self._workers.add(worker)
        return worker

    def _release(self, job_id: str) -> WorkerProcess:
        """Give back what a job held (caller holds the lock); its worker."""
        cpus, mem = self._held.pop(job_id)
        self._cpus += cpus
        self._mem += mem
        return self._running.pop(job_id)

    def _finished(self, worker: WorkerProcess, job_id: str) -> None:
        with self._lock:
            if self._running.get(job_id) is not worker:
                return
            self._release(job_id)
            self._idle.append(worker)
            self._done.put(api.Completion(job_id))
            self._dispatch()

    def _exited(self, worker: WorkerProcess, exit_code: int) -> None:
        with self._lock:
            worker.release()
            self._workers.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            lost = [job_id for job_id, holder in self._running.items() if holder is worker]
            for job_id in lost:
                self._release(job_id)
                self._done.put(api.Completion(job_id, api.Status.LOST,
                                              f"worker process {worker.pid} exited with {exit_code}",
                                              {"pid": worker.pid, "exit_code": exit_code}))
            self._dispatch()
