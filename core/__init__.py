"""flowmill: pipelines of Python functions and command-line tools, cached on disk,
run serially, on an IPython cluster, on Grid Engine, through Ruffus, or on any backend
a plugin provides. This module is the user's whole vocabulary.

Names are loaded on first use (PEP 562): a batch job running ``python -m
flowmill.worker`` then imports only what its job needs, which halves a worker's
start-up, while ``from flowmill import Node`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._command import CommandError, CommandFailed, CommandNode, CommandTask, CommandTimeout
    from ._contract import (
        CONTRACT_VERSION,
        Backend,
        Capabilities,
        Completion,
        GraphEvents,
        GraphExecutor,
        JobExecutor,
        RunContext,
    )
    from ._errors import FailedNode, FlowmillError, PluginError, ValidationError, WorkflowError
    from ._files import File
    from ._graph import ExecutionGraph
    from ._job import Job
    from ._manager import installed_backends, plugin_manager, register, unregister
    from ._markers import hookimpl
    from ._mapping import JoinNode, MapNode
    from ._node import Node
    from ._options import RunOptions
    from ._processes import kill_process_tree
    from ._resources import Resources
    from ._result import Expansion, Outputs, RunResult
    from ._runinfo import RunInfo
    from ._workflow import Workflow

_EXPORTS = {
    "Backend": "._contract",
    "CONTRACT_VERSION": "._contract",
    "Capabilities": "._contract",
    "CommandError": "._command",
    "CommandFailed": "._command",
    "CommandNode": "._command",
    "CommandTask": "._command",
    "CommandTimeout": "._command",
    "Completion": "._contract",
    "ExecutionGraph": "._graph",
    "Expansion": "._result",
    "FailedNode": "._errors",
    "File": "._files",
    "FlowmillError": "._errors",
    "GraphEvents": "._contract",
    "GraphExecutor": "._contract",
    "Job": "._job",
    "JobExecutor": "._contract",
    "JoinNode": "._mapping",
    "MapNode": "._mapping",
    "Node": "._node",
    "Outputs": "._result",
    "PluginError": "._errors",
    "Resources": "._resources",
    "RunContext": "._contract",
    "RunInfo": "._runinfo",
    "RunOptions": "._options",
    "RunResult": "._result",
    "ValidationError": "._errors",
    "Workflow": "._workflow",
    "WorkflowError": "._errors",
    "hookimpl": "._markers",
    "installed_backends": "._manager",
    "kill_process_tree": "._processes",
    "plugin_manager": "._manager",
    "register": "._manager",
    "unregister": "._manager",
}

__version__ = "0.1.0"

__all__ = [
    "CONTRACT_VERSION",
    "Backend",
    "Capabilities",
    "CommandError",
    "CommandFailed",
    "CommandNode",
    "CommandTask",
    "CommandTimeout",
    "Completion",
    "ExecutionGraph",
    "Expansion",
    "FailedNode",
    "File",
    "FlowmillError",
    "GraphEvents",
    "GraphExecutor",
    "Job",
    "JobExecutor",
    "JoinNode",
    "MapNode",
    "Node",
    "Outputs",
    "PluginError",
    "Resources",
    "RunContext",
    "RunInfo",
    "RunOptions",
    "RunResult",
    "ValidationError",
    "Workflow",
    "WorkflowError",
    "hookimpl",
    "installed_backends",
    "kill_process_tree",
    "plugin_manager",
    "register",
    "unregister",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flowmill' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
