"""``dry_run=True``: print the exact ``sbatch`` line of every job, submit nothing.

It sees the same remaining graph a real run would (cached nodes are left out). In
graph mode a parent's Slurm id is not known before it is submitted, so the
dependency names the parent node in angle brackets. The nodes are reported pending.
"""

from __future__ import annotations

import shlex
from typing import Mapping, Sequence

import flowmill.backend as api

from ._options import SlurmOptions
from ._sbatch import sbatch_line


class DryRunExecutor:
    """A graph-level executor that only describes the jobs."""

    def __init__(self, options: SlurmOptions, context: api.RunContext) -> None:
        self.graph_mode = options.graph
        self.timeout = context.run_options.timeout

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, SlurmOptions],
                  events: api.GraphEvents) -> Sequence[str]:
        for job_id in graph.topological():
            parents = graph.parents[job_id] if self.graph_mode else ()
            dependency = "afterok:" + ":".join(f"<{parent}>" for parent in parents) if parents else None
            argv = sbatch_line([graph.jobs[job_id]], options[job_id], timeout=self.timeout, dependency=dependency)
            print(f"[slurm dry run] {job_id}\n  {shlex.join(argv)}")
        return list(graph.jobs)

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Nothing was submitted, so nothing to cancel."""

    def shutdown(self) -> None:
        """Nothing was started, so nothing to release."""
