"""The kit's declaration case: the checks of ``flowmill plugins --check``, plus what
needs the executor built for the options of a run (its protocol, ``slots``, and
capabilities consistent with its shape)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from ..contract.declaration import check_backend, check_capabilities, check_executor
from ..contract.manager import distribution_of, installed_backends, make_executor
from ..contract.types import RunContext
from ..execution.session import split_options

log = logging.getLogger("flowmill")


def findings(name: str, values: Mapping[str, Any], workdir: Path) -> list[str]:
    """Every finding about backend ``name`` run with ``values``; empty if none."""
    backend, plugin = installed_backends()[name]
    distribution = distribution_of(plugin)
    found = check_backend(backend, distribution)
    if found:
        return found
    run_options, options = split_options(backend, values)
    context = RunContext(run_id="declaration", workflow_dir=workdir, started=lambda job_id: None, log=log,
                         run_options=run_options)
    executor = make_executor(backend, plugin, options, context)
    where = f"backend {name!r} ({distribution})"
    try:
        found = check_executor(executor, where)
        graph_level = callable(getattr(executor, "run_graph", None))
        return found + check_capabilities(backend.capabilities_for(options), graph_level, where)
    finally:
        executor.shutdown()
