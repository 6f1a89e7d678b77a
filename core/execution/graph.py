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

    def arrays(self, job_ids: Iterable[str]) -> list[list[str]]:
        """The jobs in the order given, the elements of one MapNode gathered into one
        unit at the place of the first of them: elements that share their parents, or
        whose only difference is the element of an upstream MapNode each waits for.
        What a scheduler submits as one job array (SGE, Slurm); in topological order,
        every dependant of a unit still comes after it."""
        jobs = self.jobs

        def key(job_id: str) -> tuple[Any, ...]:
            return jobs[job_id].group, tuple(sorted(jobs[p].group or p for p in self.parents[job_id]))

        ordered = list(job_ids)
        groups: dict[tuple[Any, ...], list[str]] = {}
        for job_id in ordered:
            if jobs[job_id].group is not None:
                groups.setdefault(key(job_id), []).append(job_id)
        units, placed = [], set()
        for job_id in ordered:
            if job_id not in placed:
                unit = groups[key(job_id)] if jobs[job_id].group is not None else [job_id]
                placed.update(unit)
                units.append(unit)
        return units

    def subgraph(self, job_ids: Iterable[str]) -> "ExecutionGraph":
        """The jobs named, with their dependencies among themselves only."""
        keep = {job_id: self.jobs[job_id] for job_id in job_ids}
        return ExecutionGraph(keep, {job_id: tuple(p for p in self.parents[job_id] if p in keep)
                                     for job_id in keep})
