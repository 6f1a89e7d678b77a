"""The ``multiproc`` backend: every core of this machine, with nipype MultiProc's
accounting (``n_procs`` cores and ``memory_gb`` of memory shared by the running nodes,
each taking its ``resources``), on worker processes the driver can kill.

A job-level executor: the core resolves cached nodes in the driver and decides
retries, timeouts and skips; this package only runs jobs in worker processes and
reports when each one ended. See docs/backends/multiproc.md.
"""

from __future__ import annotations

from typing import Any

import flowmill.backend as api

from ._options import MultiProcOptions, capabilities
from ._pool import MultiProcExecutor

__all__ = ["MultiProcExecutor", "MultiProcOptions"]

BACKEND = api.Backend(
    name="multiproc",
    description="runs nodes on a pool of local worker processes, sharing n_procs cores and memory_gb",
    contract=2,
    options=MultiProcOptions,
    capabilities=capabilities,
)


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: Any,
                           context: api.RunContext) -> MultiProcExecutor | None:
    return MultiProcExecutor(options, context) if backend.name == "multiproc" else None
