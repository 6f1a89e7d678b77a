"""The execution graph: one Job per concrete node instance, with its dependencies.

Built once per run from the user's workflow in O(nodes + edges); the runner and the
graph-level backends only ever walk this structure.
"""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from ._errors import ValidationError
from ._hashing import HashMethod
from ._job import Job, Ref
from ._node import Node
from ._resources import Resources
from ._task import MANDATORY
from ._workflow import Edge, Workflow


class ExecutionGraph:
    """Jobs by id, and for each job the ids of the jobs it waits for and feeds."""

    __slots__ = ("jobs", "parents", "children")

    def __init__(self, jobs: Mapping[str, Job], parents: Mapping[str, tuple[str, ...]]) -> None:
        self.jobs = dict(jobs)
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
        """Job ids, parents before children; raises ValidationError on a cycle."""
        sorter = graphlib.TopologicalSorter(self.parents)
        try:
            return list(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise ValidationError(f"the workflow has a cycle: {cycle}. Remove one of these connections") from None

    def subgraph(self, job_ids: Iterable[str]) -> "ExecutionGraph":
        """The jobs named, with their dependencies among themselves only."""
        keep = {job_id: self.jobs[job_id] for job_id in job_ids}
        return ExecutionGraph(keep, {job_id: tuple(p for p in self.parents[job_id] if p in keep)
                                     for job_id in keep})


def build_graph(workflow: Workflow, workflow_dir: Path, hash_method: HashMethod) -> ExecutionGraph:
    """Turn the user's (possibly nested) workflow into jobs, validating connections and
    mandatory inputs on the way; every problem names the node and the fix."""
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
    jobs: dict[str, Job] = {}
    parents: dict[str, tuple[str, ...]] = {}
    dirs = {path: workflow_dir.joinpath(*path.split(".")) for path in nodes}
    for path, node in nodes.items():
        jobs[path] = _job_for(path, node, dirs, incoming[path], hash_method)
        parents[path] = tuple(dict.fromkeys(edge.src for edge in incoming[path].values()))
    graph = ExecutionGraph(jobs, parents)
    graph.topological()
    return graph


def _job_for(path: str, node: Node, dirs: Mapping[str, Path], incoming: Mapping[str, Edge],
             hash_method: HashMethod) -> Job:
    defaults = node.task.input_defaults()
    inputs = {name: value for name, value in defaults.items() if value is not MANDATORY}
    inputs.update(node.set_inputs())
    for name in incoming:
        inputs.pop(name, None)
    missing = [name for name in node.mandatory_inputs if name not in inputs and name not in incoming]
    if missing:
        raise ValidationError(f"node {path!r}: mandatory input(s) {missing} are neither set nor connected; "
                              f"set them (node.inputs.{missing[0]} = ...) or connect an upstream output")
    check = getattr(node.task, "check", None)
    if check is not None:
        try:
            check(inputs)
        except ValidationError as exc:
            raise ValidationError(f"node {path!r}: {exc}") from None
    refs: dict[str, Ref | list[Ref]] = {name: Ref(edge.src, edge.src_field, str(dirs[edge.src]))
                                        for name, edge in incoming.items()}
    return Job(path, dirs[path], node.task, inputs, refs, version=node.version, hash_method=hash_method,
               resources=Resources.parse(path, node.resources), plugin_args=node.plugin_args)
