"""The ``slurm`` backend: nodes run as Slurm batch jobs.

``wf.run(plugin="slurm", sbatch_args="-p long --gres=gpu:1")`` submits every node that
is not cached with ``sbatch --parsable`` as a batch script that execs
``python -m flowmill.worker`` on the node's job file, with the driver's interpreter and
environment, in the node's directory; a MapNode's ready elements go as one job array.
One ``squeue`` per interval watches every job of the run. With ``graph=True`` the whole
remaining graph is queued at once with ``--dependency=afterok``, and ``wait=False``
lets the driver leave. See ``docs/backends/slurm.md``.
"""

from __future__ import annotations

from typing import Any

import flowmill.backend as api

from ._options import SlurmOptions

__all__ = ["SlurmOptions"]

BACKEND = api.Backend(
    name="slurm",
    description="runs each node as a Slurm batch job (sbatch, one batched squeue per interval; graph mode "
                "submits all with --dependency=afterok)",
    contract=2,
    options=SlurmOptions,
    capabilities=lambda options: api.Capabilities(needs_pickle=True, shared_fs=True, timeouts="native",
                                                  reports_starts=True, max_jobs=not options.graph),
    modes={"job-level": {}, "graph": {"graph": True}},
)


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: SlurmOptions, context: api.RunContext) -> Any:
    if backend.name != "slurm":
        return None
    from ._dryrun import DryRunExecutor
    from ._graph import SlurmGraphExecutor
    from ._jobs import SlurmJobExecutor

    if options.dry_run:
        return DryRunExecutor(options, context)
    return SlurmGraphExecutor(options, context) if options.graph else SlurmJobExecutor(options, context)
