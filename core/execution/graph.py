"""The execution graph: one Job per concrete node instance, with its dependencies.

Built once per run from the user's workflow in O(nodes + edges); the runner and the
graph-level backends only ever walk this structure.
"""

from __future__ import annotations

import graphlib
from typing import Any, Iterable, Iterator, Mapping

from .job import Job


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
