"""The execution graph: one Job per concrete node instance, with its dependencies.

Built once per run from the user's workflow in O(nodes + edges); the runner and the
graph-level backends only ever walk this structure.
"""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ._errors import ValidationError
from ._expand import Expander
from ._hashing import HashMethod
from ._job import Job
from ._workflow import Edge, Workflow


class ExecutionGraph:
    """Jobs by id, and for each job the ids of the jobs it waits for and feeds;
    ``nodes`` maps each user node path to its instances (job id and iterable
    parameters) and output names, for the run's result."""

    __slots__ = ("jobs", "parents", "children", "nodes")

    def __init__(self, jobs: Mapping[str, Job], parents: Mapping[str, tuple[str, ...]],
                 nodes: Mapping[str, tuple[list[tuple[str, dict[str, Any]]], tuple[str, ...]]] | None = None) -> None:
        self.jobs = dict(jobs)
        self.nodes = dict(nodes or {})
        self.parents = {job_id: tuple(parents.get(job_id, ())) for job_id in self.jobs}
        self.children: dict[str, list[str]] = {job_id: [] for job_id in self.jobs}
        for job_id, ups in self.parents.items():
            for up in ups:
                if up in self.children:
                    self.children[up].append(job_id)

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self.jobs.values())

    def topological(self) -> list[str]:
        """Job ids, parents before children."""
        return list(graphlib.TopologicalSorter(self.parents).static_order())

    def subgraph(self, job_ids: Iterable[str]) -> "ExecutionGraph":
        """The jobs named, with their dependencies among themselves only."""
        keep = {job_id: self.jobs[job_id] for job_id in job_ids}
        return ExecutionGraph(keep, {job_id: tuple(p for p in self.parents[job_id] if p in keep)
                                     for job_id in keep})


def build_graph(workflow: Workflow, workflow_dir: Path, hash_method: HashMethod) -> ExecutionGraph:
    """Turn the user's (possibly nested) workflow into jobs, validating connections,
    iterables, joins, maps and mandatory inputs on the way; every problem names the
    node and the fix."""
    nodes, edges = workflow.flatten()
    if not nodes:
        raise ValidationError(f"workflow {workflow.name!r} has no nodes; add some with add_nodes or connect")
    incoming: dict[str, dict[str, Edge]] = {path: {} for path in nodes}
    for edge in edges:
        into = incoming[edge.dst]
        if edge.dst_field in into:
            first = into[edge.dst_field]
            raise ValidationError(f"input {edge.dst_field!r} of node {edge.dst!r} is connected twice "
                                  f"(from {first.src}.{first.src_field} and {edge.src}.{edge.src_field}); "
                                  "an input takes one connection")
        into[edge.dst_field] = edge
    order = _node_order({path: {edge.src for edge in into.values()} for path, into in incoming.items()})
    dirs = {path: workflow_dir.joinpath(*path.split(".")) for path in nodes}
    expander = Expander(nodes, incoming, order, dirs, hash_method)
    expander.build()
    return ExecutionGraph(expander.jobs, expander.parents,
                          {path: (expansion, tuple(nodes[path].task.output_names))
                           for path, expansion in expander.expansions.items()})


def _node_order(parents: Mapping[str, set[str]]) -> list[str]:
    try:
        return list(graphlib.TopologicalSorter(parents).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ValidationError(f"the workflow has a cycle: {cycle}. Remove one of these connections") from None
