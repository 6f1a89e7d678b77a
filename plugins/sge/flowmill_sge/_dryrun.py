"""``dry_run=True``: print what would be submitted, submit nothing.

It sees the same remaining graph a real run would (cached nodes are left out) and
prints, per node, the exact native specification and command, with ``-hold_jid`` on
the parents' node names in graph mode. The nodes are reported pending: nothing ran.
"""

from __future__ import annotations

import shlex
from typing import Mapping, Sequence

import flowmill.backend as api

from . import _spec as spec
from ._options import SGEOptions


class DryRunExecutor:
    """A graph-level executor that only describes the jobs."""

    def __init__(self, options: SGEOptions, context: api.RunContext) -> None:
        self.options = options
        self.run_options = context.run_options
        self.token = context.run_id
        self.workdir = context.workflow_dir

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, SGEOptions],
                  events: api.GraphEvents) -> Sequence[str]:
        guard = self.run_options.result_grace if self.options.graph else None
        timeout = self.run_options.timeout
        env_file = spec.environment_file(self.workdir, spec.job_environment()[1])
        for job_id in graph.topological():
            job = graph.jobs[job_id]
            tokens = spec.native_spec(job, options[job_id], time_limit=timeout)
            parents = graph.parents[job_id] if self.options.graph else ()
            if parents:
                tokens += ["-hold_jid", ",".join(spec.job_name(graph.jobs[p]) for p in parents)]
            command = spec.launch_command(job, env_file, [(self.token, str(graph.jobs[p].dir)) for p in parents],
                                          guard)
            print(f"[sge dry run] {job_id}\n  native specification: {shlex.join(tokens)}\n"
                  f"  command: {shlex.join(command)}\n  working directory: {job.dir}")
        return list(graph.jobs)

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Nothing was submitted, so nothing to cancel."""

    def shutdown(self) -> None:
        """Nothing was started, so nothing to release."""
