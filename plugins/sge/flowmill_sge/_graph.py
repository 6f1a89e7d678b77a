"""The graph executor (nipype's SGEGraph, done through DRMAA): every job that is not
cached is queued at once, held on its parents with ``-hold_jid``, so the scheduler
runs the graph by itself and the driver may even leave (``wait=False``).

The policy is the core's. Each job that ends is reported to ``events.completed``; a
``Verdict.RESUBMIT`` (a lost job with retries left) is submitted again, with its
queued dependants held on the new job. When a node fails, the core skips its
dependants and calls ``cancel``, which deletes their jobs from the queue. If the driver
is gone, the launcher each job runs (``flowmill_sge.launch``) keeps dependants of a
failed node from running.
"""

from __future__ import annotations

import queue
from typing import Any, Iterable, Iterator, Mapping, Sequence

import flowmill.backend as api

from . import _records as records
from . import _spec as spec
from ._cluster import Cluster
from ._locate import Installation
from ._options import SGEOptions

Inbox = queue.SimpleQueue[tuple[str, Any]]
"""What the thread following a run waits on: ('finished', Completion), ('cancel', job ids)
or ('dead', the error that ends the run)."""


class SGEGraphExecutor:
    """Queues the remaining graph with dependencies, then reports as jobs end."""

    def __init__(self, installation: Installation, options: SGEOptions, context: api.RunContext) -> None:
        self.options = options
        self.run_options = context.run_options
        self._inbox: Inbox = queue.SimpleQueue()
        self._keep_jobs = False
        self.cluster = Cluster(installation, options, context, lambda done: self._inbox.put(("finished", done)),
                               lambda error: self._inbox.put(("dead", error)))

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, SGEOptions],
                  events: api.GraphEvents) -> Sequence[str]:
        run = _GraphRun(self.cluster, self.run_options, graph, options, events)
        run.submit(graph.topological(), adopt=True)
        if not self.options.wait:
            self._keep_jobs = True
            return sorted(run.remaining)
        run.follow(self._inbox)
        return []

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Jobs the core settled without them (dependants of a failure, a stop at the
        first crash, Ctrl-C): handed to the thread that follows the run, which deletes
        them, queued or running (DRMAA reports no starts, and the run's sweep hears them
        up to a sweep interval late, so the core may count a running one
        skipped), and stops expecting them."""
        self._inbox.put(("cancel", list(job_ids)))

    def shutdown(self) -> None:
        self.cluster.close(keep_jobs=self._keep_jobs)


class _GraphRun:
    """The state of one ``run_graph`` call: which nodes are still owed a report and
    which result token each parent's dependants check for."""

    def __init__(self, cluster: Cluster, run_options: api.RunOptions, graph: api.ExecutionGraph,
                 options: Mapping[str, SGEOptions], events: api.GraphEvents) -> None:
        self.cluster = cluster
        self.graph = graph
        self.options = options
        self.events = events
        self.order = {job_id: index for index, job_id in enumerate(graph.topological())}
        self.remaining: set[str] = set(graph.jobs)
        self.tokens: dict[str, str | None] = {}
        """Result tokens of jobs re-attached from an earlier run; the others carry this run's."""
        self.grace = run_options.result_grace
        self.timeout = cluster.time_limit

    # -- submission -------------------------------------------------------------------

    def submit(self, job_ids: Iterable[str], *, adopt: bool = False) -> None:
        """Queue these jobs (in topological order) with their holds, re-attaching
        first to jobs an earlier run left queued when ``adopt`` (the first submission,
        whose native specifications the qmaster also verifies before anything is
        queued). Job files are written as the helper takes the requests."""
        batch = sorted(job_ids, key=self.order.__getitem__)
        if adopt:
            batch = self._adopt(batch)
        units = self.graph.arrays(batch)
        if not units:
            return
        natives = [spec.native_spec(self.graph.jobs[unit[0]], self.options[unit[0]], time_limit=self.timeout)
                   for unit in units]
        if adopt:
            self._verify(units, natives)
        self.cluster.submit([self.graph.jobs[job_id] for job_id in batch],
                            self._requests(units, natives, set(batch)), self.options)

    def _adopt(self, batch: list[str]) -> list[str]:
        """Re-attach to still-queued jobs of an earlier run (only where every parent
        was re-attached too); returns the jobs left to submit."""
        adopted = self.cluster.adopt(
            (self.graph.jobs[job_id] for job_id in batch),
            lambda job, done: all(parent in done for parent in self.graph.parents[job.id]))
        self.tokens.update((job_id, token) for job_id, (_, token) in adopted.items())
        return [job_id for job_id in batch if job_id not in adopted]

    def _verify(self, units: list[list[str]], natives: list[list[str]]) -> None:
        """Let the qmaster check each distinct native specification once."""
        distinct = {tuple(native): unit[0] for unit, native in zip(units, natives)}
        self.cluster.verify([(f"node {key!r} (qsub_args={self.options[key].qsub_args!r})", list(tokens))
                             for tokens, key in distinct.items()])

    def _requests(self, units: list[list[str]], natives: list[list[str]],
                  members: set[str]) -> Iterator[dict[str, Any]]:
        """One submission per unit (a single job, or the elements of a MapNode as one
        array), each job file written first."""
        arrays = {unit[0]: unit for unit in units if len(unit) > 1}
        for unit, native in zip(units, natives):
            for job_id in unit:
                self.graph.jobs[job_id].write()
            if len(unit) > 1:
                yield self._array_request(unit, native, members, arrays)
            else:
                yield self._single_request(unit[0], native, members)

    def _single_request(self, job_id: str, native: list[str], members: set[str]) -> dict[str, Any]:
        job = self.graph.jobs[job_id]
        parents = self.graph.parents[job_id]
        command = spec.launch_command(job, self.cluster.env_file, [self._expected(p) for p in parents], self.grace)
        return spec.request(job, native, command, self.cluster.env, after=self._after(parents, members))

    def _array_request(self, siblings: list[str], native: list[str], members: set[str],
                       arrays: Mapping[str, list[str]]) -> dict[str, Any]:
        """The elements of one MapNode as one array. Parents they share hold the whole
        array; a column of another MapNode's elements (element i feeds element i) is
        checked task by task, and held task by task (``-hold_jid_ad``) when that
        MapNode goes out as the same array in the same order."""
        job_id = siblings[0]
        columns = self._columns(siblings)
        own = {parent for column in columns for parent in column}
        shared = [parent for parent in self.graph.parents[job_id] if parent not in own]
        element_wise = [column for column in columns if arrays.get(column[0]) == column]
        whole = [parent for column in columns if column not in element_wise for parent in column]
        per_task = [[self._expected(column[k]) for column in columns] for k in range(len(siblings))]
        return spec.array_request([self.graph.jobs[sibling] for sibling in siblings], native,
                                  self.cluster.env_file, self.cluster.env,
                                  expected=[self._expected(parent) for parent in shared], per_task=per_task,
                                  guard=self.grace, after=self._after([*shared, *whole], members),
                                  after_ad=[column[0] for column in element_wise])

    def _hold(self, parent: str, members: set[str]) -> str | None:
        """How a job waits for ``parent``: by key when it is in the same submission, by
        its SGE id while it is still queued; a finished parent needs no hold."""
        if parent in members:
            return parent
        if parent in self.remaining:
            return self.cluster.sge_id(parent)
        return None

    def _after(self, parents: Iterable[str], members: set[str]) -> list[str]:
        return [hold for parent in parents if (hold := self._hold(parent, members)) is not None]

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

    # -- following --------------------------------------------------------------------

    def follow(self, inbox: Inbox) -> None:
        """Report every job as it ends, and drop what the core cancels, until none is owed."""
        while self.remaining:
            kind, payload = inbox.get()
            if kind == "dead":
                raise payload
            if kind == "cancel":
                self._forget(payload)
            elif payload.job_id in self.remaining:
                self._settle(payload)

    def _settle(self, completion: api.Completion) -> None:
        if self.events.completed(completion) == api.Verdict.RESUBMIT:
            self._resubmit(completion.job_id)
        else:
            self.remaining.discard(completion.job_id)

    def _forget(self, job_ids: Iterable[str]) -> None:
        owed = [job_id for job_id in job_ids if job_id in self.remaining]
        self.remaining.difference_update(owed)
        self.cluster.cancel(owed)

    def _resubmit(self, job_id: str) -> None:
        """Submit a lost job again, with its queued dependants held on the new job
        (those the core has meanwhile skipped are dropped instead)."""
        dependants = self._descendants(job_id)
        self.cluster.cancel(dependants)
        self.remaining.difference_update([child for child in dependants if self.events.blocked(child)])
        records.clear_blocked(self.graph.jobs[job_id].dir)
        self.submit([job_id, *(child for child in dependants if child in self.remaining)])

    def _descendants(self, job_id: str) -> list[str]:
        seen: set[str] = set()
        stack = list(self.graph.children[job_id])
        while stack:
            child = stack.pop()
            if child in self.remaining and child not in seen:
                seen.add(child)
                stack.extend(self.graph.children[child])
        return sorted(seen, key=self.order.__getitem__)
