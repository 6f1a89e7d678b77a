"""The ``ruffus`` backend: flowmill hands the whole remaining graph to Ruffus, which
schedules it on a pool of processes or threads.

It is the reference graph-level backend. The non-cached part of the execution graph
becomes one Ruffus pipeline built in code (``Pipeline.parallel`` tasks joined by
``follows``), sibling jobs grouped into few tasks because Ruffus pauses 0.1 s before
each task. flowmill's cache alone decides what runs; failures never reach Ruffus, so
independent branches finish; the core decides retries, skips, timeouts and the stop
at the first crash; and observers hear of every job from the driver.
Ruffus itself is imported only when this backend runs, not whenever flowmill loads
its plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flowmill.backend as api

from ._options import RuffusOptions

if TYPE_CHECKING:
    from ._executor import RuffusExecutor

__all__ = ["RuffusOptions"]



def capabilities(options: RuffusOptions) -> api.Capabilities:
    """In ``multiprocess`` mode every job runs in a sandbox process (also with one job
    at a time, when Ruffus itself runs jobs in the driver), which is stopped at the
    run's ``timeout``; threads share the driver's process, so nothing is pickled and
    nothing can stop a running node."""
    processes = options.mode == "multiprocess"
    return api.Capabilities(needs_pickle=processes, shared_fs=True, reports_starts=True,
                            timeouts="native" if processes else "none")


BACKEND = api.Backend(
    name="ruffus",
    description="Ruffus schedules the whole graph as one pipeline, on processes or threads",
    contract=2,
    options=RuffusOptions,
    capabilities=capabilities,
    modes={"multiprocess": {}, "multithread": {"mode": "multithread"}},
)


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: Any,
                           context: api.RunContext) -> "RuffusExecutor | None":
    if backend.name != "ruffus":
        return None
    from ._executor import RuffusExecutor

    return RuffusExecutor(options, context)
