"""The graph executor (nipype's SGEGraph, done through DRMAA): every job that is not
cached is queued at once, held on its parents with ``-hold_jid``, so the scheduler
runs the graph by itself and the driver may even leave (``wait=False``).

What the scheduler cannot do, the driver does while it waits: when a node fails, its
dependants are reported skipped and deleted from the queue; a lost job is resubmitted
(``retries``) together with its queued dependants. If the driver is gone, the launcher
each job runs (``flowmill_sge.launch``) keeps dependants of a failed node from running.
"""

from __future__ import annotations

import queue
from typing import Any, Iterable, Mapping, Sequence

import flowmill.backend as api

from . import _spec as spec
from ._cluster import Cluster
from ._locate import Installation
from ._options import SGEOptions
from ._outcome import Kind


class SGEGraphExecutor:
    """Queues the remaining graph with dependencies, then reports as jobs end."""

    def __init__(self, installation: Installation, options: SGEOptions, context: api.RunContext) -> None:
        self.options = options
        self.run_options = context.run_options
        self._inbox: "queue.SimpleQueue[tuple[Any, ...]]" = queue.SimpleQueue()
        self._keep_jobs = False
        self.cluster = Cluster(installation, options, context, self._finished,
                               lambda why: self._inbox.put(("dead", why)))

    def _finished(self, job: api.Job, kind: Kind, completion: api.Completion) -> None:
        self._inbox.put(("finished", job.id, kind, completion))

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, SGEOptions],
                  events: api.GraphEvents) -> Sequence[str]:
        run = _GraphRun(self, graph, options, events)
        run.submit(graph.topological(), adopt=True)
        if not self.options.wait:
            self._keep_jobs = True
            return sorted(run.remaining)
        return run.follow()

    def cancel(self, job_ids: Sequence[str]) -> None:
        self.cluster.cancel(job_ids)
        self._inbox.put(("cancelled",))

    def shutdown(self) -> None:
        self.cluster.close(keep_jobs=self._keep_jobs)


class _GraphRun:
    """The state of one ``run_graph`` call: which nodes are still owed a report,
    which SGE job computes each, and how often each was tried."""

    def __init__(self, executor: SGEGraphExecutor, graph: api.ExecutionGraph,
                 options: Mapping[str, SGEOptions], events: api.GraphEvents) -> None:
        self.executor = executor
        self.cluster = executor.cluster
        self.graph = graph
        self.options = options
        self.events = events
        self.order = {job_id: index for index, job_id in enumerate(graph.topological())}
        self.remaining: set[str] = set(graph.jobs)
        self.tokens: dict[str, str | None] = {}
        self.attempts: dict[str, int] = {}
        run_options = executor.run_options
        self.retries = run_options.retries
        self.timeout = run_options.timeout
        self.grace = run_options.result_grace

    def _hold(self, parent: str, batch: set[str]) -> str | None:
        """How a job waits for ``parent``: by key when it is in the same batch, by its
        SGE id while it is still queued; a finished parent needs no hold."""
        if parent in batch:
            return parent
        if parent in self.remaining:
            return self.cluster.sge_id(parent)
        return None

    def _after(self, parents: Iterable[str], batch: set[str]) -> list[str]:
        return [hold for parent in parents if (hold := self._hold(parent, batch)) is not None]

    def submit(self, job_ids: Iterable[str], *, adopt: bool = False) -> None:
        """Queue these jobs (in topological order) with their holds, re-attaching
        first to jobs an earlier run left queued when ``adopt``."""
        jobs = self.graph.jobs
        batch = sorted(job_ids, key=self.order.__getitem__)
        if adopt:
            adopted = self.cluster.adopt(
                (jobs[job_id] for job_id in batch),
                lambda job, done: all(parent in done for parent in self.graph.parents[job.id]))
            self.tokens.update((job_id, token) for job_id, (_, token) in adopted.items())
            batch = [job_id for job_id in batch if job_id not in adopted]
        members = set(batch)
        requests = []
        units: dict[str, list[str]] = {}
        for siblings in self._arrays(batch):
            job_id = siblings[0]
            units[job_id] = siblings
            for sibling in siblings:
                jobs[sibling].write()
                self.tokens[sibling] = self.cluster.token
                self.attempts[sibling] = self.attempts.get(sibling, 0) + 1
            columns = self._columns(siblings) if len(siblings) > 1 else []
            own = {parent for column in columns for parent in column}
            expected = [self._expected(parent) for parent in self.graph.parents[job_id] if parent not in own]
            after = self._after((p for p in self.graph.parents[job_id] if p not in own), members)
            if len(siblings) > 1:
                # A column submitted as one array in the same order is held task by task
                # (-hold_jid_ad); any other is held as a whole, like shared parents.
                element_wise = [column for column in columns if units.get(column[0]) == column]
                after += self._after((p for column in columns if column not in element_wise for p in column), members)
                per_task = [[self._expected(column[k]) for column in columns] for k in range(len(siblings))]
                requests.append(spec.array_request([jobs[sibling] for sibling in siblings], self.options[job_id],
                                                   self.cluster.env_file, self.cluster.env, expected=expected,
                                                   per_task=per_task, grace=self.grace, after=after,
                                                   after_ad=[column[0] for column in element_wise],
                                                   time_limit=self.timeout))
            else:
                command = spec.launch_command(jobs[job_id], self.cluster.env_file, expected, self.grace)
                requests.append(spec.request(jobs[job_id], self.options[job_id], command, self.cluster.env,
                                             after=after, time_limit=self.timeout))
        if not requests:
            return
        if adopt:
            distinct = {tuple(request["spec"]): request["key"] for request in requests}
            self.cluster.verify([(f"node {key!r} (qsub_args={self.options[key].qsub_args!r})", list(tokens))
                                 for tokens, key in distinct.items()])
        self.cluster.submit([jobs[job_id] for job_id in batch], requests, self.options)

    def _expected(self, parent: str) -> tuple[str, str]:
        """What the launcher checks before running: the parent's result token and dir."""
        return self.tokens.get(parent) or self.cluster.token, str(self.graph.jobs[parent].dir)

    def _columns(self, siblings: list[str]) -> list[list[str]]:
        """For an array whose elements each wait for the matching element of another
        MapNode (element i on element i), those parents column by column."""
        jobs = self.graph.jobs
        columns: dict[str, list[str]] = {}
        for sibling in siblings:
            for parent in self.graph.parents[sibling]:
                if jobs[parent].group is not None:
                    columns.setdefault(jobs[parent].group, []).append(parent)
        return list(columns.values())

    def _arrays(self, batch: list[str]) -> list[list[str]]:
        """The batch in submission order, elements of one MapNode gathered into one
        array at the place of the first of them (their dependants all come later in
        topological order): elements that share their parents, or whose only
        difference is the element of an upstream MapNode each waits for."""
        jobs = self.graph.jobs

        def key(job_id: str) -> tuple[Any, ...]:
            parents = tuple(sorted(jobs[p].group or p for p in self.graph.parents[job_id]))
            return jobs[job_id].group, parents

        groups: dict[tuple[Any, ...], list[str]] = {}
        for job_id in batch:
            if jobs[job_id].group is not None:
                groups.setdefault(key(job_id), []).append(job_id)
        units, placed = [], set()
        for job_id in batch:
            if job_id not in placed:
                unit = groups[key(job_id)] if jobs[job_id].group is not None else [job_id]
                placed.update(unit)
                units.append(unit)
        return units

    def follow(self) -> list[str]:
        """Report every job as it ends until none is owed."""
        while self.remaining:
            item = self.executor._inbox.get()
            if item[0] == "dead":
                raise api.PluginError(f"sge backend: lost the DRMAA session: {item[1]}")
            if item[0] == "cancelled":
                return []
            _, job_id, kind, completion = item
            if job_id in self.remaining:
                self._settle(job_id, kind, completion)
        return []

    def _settle(self, job_id: str, kind: Kind, completion: api.Completion) -> None:
        if kind == "blocked" and self.events.blocked(job_id):
            self.remaining.discard(job_id)
            self._skip_dependants(job_id)
            return
        if completion.status == "lost" and self.attempts[job_id] <= self.retries:
            self.cluster.log.warning("node %s was lost (%s); resubmitting (attempt %d of %d)", job_id,
                                     completion.reason, self.attempts[job_id] + 1, self.retries + 1)
            self._resubmit(job_id)
            return
        self.remaining.discard(job_id)
        self.events.completed(completion)
        self._skip_dependants(job_id)

    def _descendants(self, job_id: str) -> list[str]:
        seen: set[str] = set()
        stack = list(self.graph.children[job_id])
        while stack:
            child = stack.pop()
            if child in self.remaining and child not in seen:
                seen.add(child)
                stack.extend(self.graph.children[child])
        return sorted(seen, key=self.order.__getitem__)

    def _skip_dependants(self, job_id: str) -> None:
        """Dependants of a node that failed will never run: report them skipped and
        take them out of the queue. Walks only as far as nodes are blocked, so a
        success costs one look at each child."""
        doomed = []
        stack = list(self.graph.children[job_id])
        while stack:
            child = stack.pop()
            if child in self.remaining and self.events.blocked(child):
                self.remaining.discard(child)
                stack.extend(self.graph.children[child])
                if (sge_id := self.cluster.sge_id(child)) is not None:
                    doomed.append(sge_id)
        self.cluster.delete(doomed)

    def _resubmit(self, job_id: str) -> None:
        """Submit a lost job again, with its queued dependants held on the new job."""
        subtree = [job_id, *self._descendants(job_id)]
        self.cluster.delete([sge_id for node in subtree if (sge_id := self.cluster.sge_id(node)) is not None])
        self.submit(subtree)
