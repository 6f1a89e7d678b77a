"""How the execution graph becomes Ruffus tasks.

Ruffus pauses 0.1 s before the first job of every task, serially, whatever the
parallelism, while jobs inside one task cost a few milliseconds. So the plan makes as
few tasks as the graph allows without running anything before its inputs exist:

1. A *unit* is a maximal chain of jobs where each has one parent, whose only child it
   is; it becomes one Ruffus job that runs its jobs in order (a chain is sequential
   anyway, so nothing that could run in parallel is serialized).
2. Units whose heads have the same parent units become the jobs of one Ruffus task,
   which follows the tasks holding those parents. Two units in one task share every
   parent, so the task-level graph stays acyclic.

The price: a task's children wait for all of its units, so a short unit's children
can wait for a long sibling. Each avoided task saves 0.1 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import flowmill.backend as api


@dataclass(frozen=True)
class Stage:
    """One Ruffus task: its units (each a chain of job ids) and the stages it follows."""

    index: int
    units: tuple[tuple[str, ...], ...]
    parents: tuple[tuple[str, ...], ...]
    """For each unit, the ids of the jobs its head reads from (for the printout)."""
    after: tuple[int, ...]

    @property
    def name(self) -> str:
        """Unique within the pipeline: every job id is, and each job is in one stage."""
        first = " -> ".join(self.units[0])
        return first if len(self.units) == 1 else f"{first} (+{len(self.units) - 1} more)"


def plan(graph: api.ExecutionGraph) -> list[Stage]:
    """Stages in dependency order (each follows only stages listed before it)."""
    parents, children = graph.parents, graph.children
    units: list[list[str]] = []
    unit_of: dict[str, int] = {}
    for job_id in graph.topological():
        ups = parents[job_id]
        if len(ups) == 1 and len(children[ups[0]]) == 1:
            unit_of[job_id] = unit_of[ups[0]]
            units[unit_of[job_id]].append(job_id)
        else:
            unit_of[job_id] = len(units)
            units.append([job_id])
    by_parents: dict[frozenset[int], list[int]] = {}
    for index, unit in enumerate(units):
        key = frozenset(unit_of[p] for p in parents[unit[0]])
        by_parents.setdefault(key, []).append(index)
    stage_of: dict[int, int] = {}
    stages: list[Stage] = []
    for key, members in by_parents.items():
        for unit_index in members:
            stage_of[unit_index] = len(stages)
        stages.append(Stage(index=len(stages),
                            units=tuple(tuple(units[u]) for u in members),
                            parents=tuple(parents[units[u][0]] for u in members),
                            after=tuple(sorted({stage_of[u] for u in key}))))
    return stages
