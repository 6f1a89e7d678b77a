"""The ``sge`` backend: nodes run as Sun/Son of Grid Engine jobs, submitted through DRMAA.

``wf.run(plugin="sge", qsub_args="-q long.q -l h_vmem=4G")`` submits every node that is
not cached as one job running ``python -m flowmill.worker`` on the node's job file,
with the driver's interpreter and environment, in the node's directory. With
``graph=True`` the whole remaining graph is queued at once, each job held on its
parents (``-hold_jid``), and ``wait=False`` lets the driver leave. See
``docs/backends/sge.md``.
"""

from __future__ import annotations

from typing import Any

import flowmill.backend as api

from ._options import SGEOptions

__all__ = ["SGEOptions"]

BACKEND = api.Backend(
    name="sge",
    description="runs each node as a Grid Engine job through DRMAA (job by job, or the whole graph with -hold_jid)",
    contract=2,
    options=SGEOptions,
    capabilities=lambda options: api.Capabilities(needs_pickle=True, shared_fs=True, timeouts="native",
                                                  max_jobs=not options.graph),
    modes={"job-level": {}, "graph": {"graph": True}},
)


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: SGEOptions, context: api.RunContext) -> Any:
    if backend.name != "sge":
        return None
    # Imported here, not at the top: every job imports this package (for
    # flowmill_sge.launch) and should not pay for the driver's machinery.
    from ._dryrun import DryRunExecutor
    from ._graph import SGEGraphExecutor
    from ._jobs import SGEJobExecutor
    from ._locate import locate

    if options.dry_run:
        return DryRunExecutor(options, context)
    installation = locate()
    executor = SGEGraphExecutor(installation, options, context) if options.graph else \
        SGEJobExecutor(installation, options, context)
    try:
        executor.cluster.verify_run_options(options)
    except BaseException:
        executor.shutdown()
        raise
    return executor
