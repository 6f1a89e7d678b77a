"""Graph mode (nipype's SLURMGraph): every job that is not cached is submitted at once,
each with ``--dependency=afterok:<its parents>`` and ``--kill-on-invalid-dep=yes`` (a
MapNode's elements as one array, element i of a chained one waiting on element i of its
upstream array with ``aftercorr``), so
Slurm runs the graph by itself and the driver may leave (``wait=False``); a record in
each node's directory lets a later run re-attach.

The core decides the policy: a failed node's dependants are settled as skipped and
handed to ``cancel`` (scancel; Slurm would also kill them, their dependency can no
longer be met), and a lost job comes back with ``Verdict.RESUBMIT``: it is submitted
again with its dependants still in the queue, which wait on the old attempt, submitted
again behind it. One :class:`~flowmill.backend.StatusPoller` watches every job.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Mapping, Sequence

import flowmill.backend as api

from . import _commands, _squeue
from ._options import SlurmOptions
from ._outcome import judge
from ._sbatch import submit

RECORD = "slurm_job.json"


class SlurmGraphExecutor:
    """Submits the remaining graph with dependencies, then reports as jobs end."""

    def __init__(self, options: SlurmOptions, context: api.RunContext) -> None:
        self.options = options
        self.context = context
        self.timeout = context.run_options.timeout
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._error: BaseException | None = None
        self._keep_jobs = False
        self.graph: api.ExecutionGraph | None = None
        self.job_options: Mapping[str, SlurmOptions] = {}
        self.events: api.GraphEvents | None = None
        self.order: dict[str, int] = {}
        self.remaining: set[str] = set()
        """Jobs owed a report."""
        self.slurm_ids: dict[str, str] = {}
        """Job id -> Slurm id of its current attempt, for the jobs owed a report."""
        self.job_ids: dict[str, str] = {}
        self.tokens: dict[str, str | None] = {}
        self.started: set[str] = set()
        self.cancelled: list[str] = []
        """Slurm ids this run scancelled: its end waits for them to be over."""
        self.poller = api.StatusPoller(lambda ids: _squeue.query(ids, options.scheduler_patience), self._update,
                                       interval=options.poll_interval, most=options.poll_most, failed=self._fail)

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, SlurmOptions],
                  events: api.GraphEvents) -> Sequence[str]:
        with self._lock:
            self.graph, self.job_options, self.events = graph, options, events
            self.order = {job_id: index for index, job_id in enumerate(graph.topological())}
            adoptable = self._adoptable(graph)
            for job_id, record in adoptable.items():
                self.context.log.info("node %s: re-attaching to Slurm job %s", job_id, record["slurm_job_id"])
                self._track(job_id, record["slurm_job_id"], record.get("token"))
            for unit in graph.arrays([job_id for job_id in graph.topological() if job_id not in adoptable]):
                self._submit(unit)
        if not self.options.wait:
            with self._lock:
                self._keep_jobs = True
                return sorted(self.remaining)
        with self._changed:
            while self.remaining and self._error is None:
                self._changed.wait()
            if self._error is not None:
                raise api.PluginError(f"slurm backend: squeue kept failing: {self._error}") from self._error
        return []

    def _adoptable(self, graph: api.ExecutionGraph) -> dict[str, dict[str, Any]]:
        """Jobs an earlier run left queued or running for these nodes that still compute
        the same thing, found with one squeue. A recorded job that already ended is not
        adopted: its node was not cached, so it failed or was lost, and runs again."""
        records = {job_id: record for job_id, job in graph.jobs.items()
                   if (record := api.matching_record(job, RECORD)) is not None}
        if not records:
            return {}
        states = _squeue.query([record["slurm_job_id"] for record in records.values()],
                               self.options.scheduler_patience)
        adoptable = {}
        for job_id, record in records.items():
            info = states.get(record["slurm_job_id"])
            if info is not None and not info.ended:
                adoptable[job_id] = record
            else:
                api.remove_record(graph.jobs[job_id].dir, RECORD)
        return adoptable

    def _dependency(self, unit: list[str]) -> str | None:
        """``afterok`` on the parents in flight; for an array whose element i waits on
        element i of an array still queued as a whole, ``aftercorr`` on that array."""
        assert self.graph is not None
        parents = [set(self.graph.parents[job_id]) for job_id in unit]
        shared = set.intersection(*parents)
        columns: dict[str | None, list[str]] = {}
        for element_parents in parents:
            for parent in sorted(element_parents - shared):
                columns.setdefault(self.graph.jobs[parent].group, []).append(parent)
        after = sorted(shared)
        corr = []
        for column in columns.values():
            base = self._array_of(column)
            if base is None:
                after.extend(column)
            else:
                corr.append(base)
        ids = [self.slurm_ids[parent] for parent in after if parent in self.slurm_ids]
        parts = (["afterok:" + ":".join(ids)] if ids else []) + [f"aftercorr:{base}" for base in corr]
        return ",".join(parts) or None

    def _array_of(self, column: list[str]) -> str | None:
        """The Slurm array whose task i computes ``column[i]``, if it is one and still owed."""
        ids = [self.slurm_ids.get(job_id) for job_id in column]
        base = (ids[0] or "").split("_")[0]
        return base if len(column) > 1 and ids == [f"{base}_{i}" for i in range(len(column))] else None

    def _submit(self, unit: list[str]) -> None:
        assert self.graph is not None
        jobs = [self.graph.jobs[job_id] for job_id in unit]
        slurm_ids = submit(jobs, self.job_options[unit[0]], timeout=self.timeout,
                           patience=self.options.scheduler_patience, dependency=self._dependency(unit))
        for job, slurm_id in zip(jobs, slurm_ids):
            api.write_record(job, RECORD, {"slurm_job_id": slurm_id, "token": job.token, "submitted": time.time()})
            self._track(job.id, slurm_id, job.token)

    def _track(self, job_id: str, slurm_id: str, token: str | None) -> None:
        self.remaining.add(job_id)
        self.slurm_ids[job_id] = slurm_id
        self.job_ids[slurm_id] = job_id
        self.tokens[job_id] = token
        self.poller.watch([slurm_id])

    def _untrack(self, job_ids: Iterable[str]) -> list[str]:
        """Stop following these jobs; their Slurm ids, for scancel."""
        gone = []
        for job_id in job_ids:
            self.remaining.discard(job_id)
            slurm_id = self.slurm_ids.pop(job_id, None)
            if slurm_id is not None:
                self.job_ids.pop(slurm_id, None)
                gone.append(slurm_id)
        self.poller.forget(gone)
        self._changed.notify_all()
        return gone

    def _update(self, states: Mapping[str, _squeue.JobState | None]) -> Iterable[str]:
        """Report the jobs that ended, parents before children (the poller's thread)."""
        assert self.graph is not None and self.events is not None
        ended = []
        with self._lock:
            known = sorted(((self.job_ids[slurm_id], slurm_id, info) for slurm_id, info in states.items()
                            if slurm_id in self.job_ids), key=lambda item: self.order[item[0]])
        for job_id, slurm_id, info in known:
            if info is not None and info.running and slurm_id not in self.started:
                self.started.add(slurm_id)
                self.context.started(job_id, info.place(slurm_id))
            if info is not None and not info.ended:
                continue
            ended.append(slurm_id)
            with self._lock:
                if self.slurm_ids.get(job_id) != slurm_id:
                    continue
                completion = judge(self.graph.jobs[job_id], slurm_id, info, self.timeout, self.tokens[job_id])
            if self.events.completed(completion) is api.Verdict.RESUBMIT:
                self._resubmit(job_id)
            else:
                with self._lock:
                    self._untrack([job_id])
                    api.remove_record(self.graph.jobs[job_id].dir, RECORD)
        return ended

    def _resubmit(self, job_id: str) -> None:
        """A lost job again, and its dependants still queued behind the new attempt."""
        assert self.graph is not None
        with self._lock:
            subtree = [job_id, *self._queued_descendants(job_id)]
            self._scancel(self._untrack(subtree))
            for node in subtree:
                self._submit([node])

    def _queued_descendants(self, job_id: str) -> list[str]:
        assert self.graph is not None
        seen: set[str] = set()
        stack = list(self.graph.children[job_id])
        while stack:
            child = stack.pop()
            if child in self.remaining and child not in seen:
                seen.add(child)
                stack.extend(self.graph.children[child])
        return sorted(seen, key=self.order.__getitem__)

    def _fail(self, error: BaseException) -> None:
        with self._lock:
            self._error = error
            self._changed.notify_all()

    def _scancel(self, slurm_ids: Sequence[str]) -> None:
        self.cancelled.extend(slurm_ids)
        _commands.scancel(slurm_ids, self.options.scheduler_patience)

    def cancel(self, job_ids: Sequence[str]) -> None:
        """The core settled these jobs (skipped, timed out, stopped): scancel them."""
        assert self.graph is not None
        with self._lock:
            owned = [job_id for job_id in job_ids if job_id in self.remaining]
            for job_id in owned:
                api.remove_record(self.graph.jobs[job_id].dir, RECORD)
            self._scancel(self._untrack(owned))

    def shutdown(self) -> None:
        """Stop polling; unless the run left its jobs to Slurm on purpose
        (``wait=False``), scancel whatever is still queued or running."""
        self.poller.close()
        with self._lock:
            if not self._keep_jobs and self.remaining:
                self.cancel(sorted(self.remaining))
        _squeue.await_cancelled(self.cancelled, self.options.scheduler_patience, self.context.log)
