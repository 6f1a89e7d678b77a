"""``wf.run(dry_run=True)`` on a backend without a dry run of its own: say what would
run and why, and what the cache answers, run nothing. A node is known cached only when
every node it reads from is (its key needs their output digests); below a node that
would run, everything would run too, as far as the driver can tell."""

from __future__ import annotations

from typing import Callable

from ..contract.states import NodeState
from .graph import ExecutionGraph


def plan(graph: ExecutionGraph) -> dict[str, NodeState]:
    """Each job's fate in a real run: CACHED, or NOT_RUN for what would run."""
    digests: dict[str, dict[str, str]] = {}
    fates: dict[str, NodeState] = {}
    for job_id in graph.topological():
        job = graph.jobs[job_id]
        header = None
        if all(parent in digests for parent in graph.parents[job_id]):
            job.settle_key(lambda ref: digests[ref.job_id][ref.output])
            header = job.reusable()
        else:
            job.why = "an upstream node would run"
        if header is None:
            fates[job_id] = NodeState.NOT_RUN
        else:
            digests[job_id] = header["digests"]
            fates[job_id] = NodeState.CACHED
    return fates


def describe(workflow: str, backend: str, graph: ExecutionGraph, fates: dict[str, NodeState],
             say: Callable[[str], None]) -> None:
    would_run = [job_id for job_id, fate in fates.items() if fate == NodeState.NOT_RUN]
    say(f"dry run of {workflow} on backend {backend}: {len(would_run)} node(s) would run, "
        f"{len(fates) - len(would_run)} cached")
    for job_id in would_run:
        say(f"  would run {job_id}: {graph.jobs[job_id].why}")
