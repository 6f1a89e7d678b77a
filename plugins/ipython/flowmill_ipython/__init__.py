"""The ``ipython`` backend: nodes run on the engines of an IPython (ipyparallel) cluster.

Connect to a running cluster (``profile``, ``profile_dir``, ``cluster_id`` or
``url_file``), use the default profile's running cluster, or let flowmill start a
temporary local one for the run. Engines run each job where they see the shared result
store; only a few bytes of status come back through the controller.

ipyparallel is imported only when this backend runs: every flowmill run loads all
installed plugins to list their backends, and must not pay for IPython's import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flowmill.backend as api

from ._options import IPythonOptions

if TYPE_CHECKING:
    from ._executor import IPythonExecutor

__all__ = ["IPythonOptions"]

BACKEND = api.Backend(
    name="ipython",
    description="runs nodes on the engines of an IPython cluster (ipyparallel), local or over ssh",
    contract=2,
    options=IPythonOptions,
    capabilities=api.Capabilities(needs_pickle=True, shared_fs=True, timeouts="cancel"),
    run_defaults={"retries": 1},
)


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: IPythonOptions,
                           context: api.RunContext) -> "IPythonExecutor | None":
    if backend.name != "ipython":
        return None
    from ._connect import connect
    from ._executor import IPythonExecutor

    connection = connect(options, context.run_id, context.log)
    try:
        return IPythonExecutor(connection, context, options.tasks_per_engine)
    except BaseException:
        connection.close()
        raise
