"""flowmill: pipelines of Python functions and command-line tools, cached on disk,
run serially, on an IPython cluster, on Grid Engine, through Ruffus, or on any backend
a plugin provides. This module is the user's whole vocabulary; backend authors
import :mod:`flowmill.backend`. Names load on first use (see ``_lazy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

if TYPE_CHECKING:
    from ._errors import (
        FailedNode,
        FlowmillError,
        PluginError,
        ValidationError,
        WorkflowError,
    )
    from ._logs import log_to_stderr
    from ._processes import kill_process_tree
    from .contract.manager import (
        installed_backends,
        plugin_manager,
        register,
        unregister,
    )
    from .contract.markers import hookimpl
    from .contract.options import RunOptions
    from .contract.resources import Resources
    from .contract.runinfo import RunInfo
    from .contract.states import NodeState
    from .execution.result import Expansion, Outputs, RunResult
    from .store.files import File
    from .store.locks import LocksRefused
    from .workflow.command import (
        CommandError,
        CommandFailed,
        CommandNode,
        CommandTask,
        CommandTimeout,
    )
    from .workflow.files_io import SelectFiles, Sink
    from .workflow.identity import IdentityNode
    from .workflow.mapping import JoinNode, MapNode
    from .workflow.node import Node
    from .workflow.task import MANDATORY, Task
    from .workflow.workflow import ExpandedGraph, Workflow

_EXPORTS = {
    "CommandError": ".workflow.command",
    "CommandFailed": ".workflow.command",
    "CommandNode": ".workflow.command",
    "CommandTask": ".workflow.command",
    "CommandTimeout": ".workflow.command",
    "ExpandedGraph": ".workflow.workflow",
    "Expansion": ".execution.result",
    "FailedNode": "._errors",
    "File": ".store.files",
    "FlowmillError": "._errors",
    "IdentityNode": ".workflow.identity",
    "JoinNode": ".workflow.mapping",
    "LocksRefused": ".store.locks",
    "MANDATORY": ".workflow.task",
    "MapNode": ".workflow.mapping",
    "Node": ".workflow.node",
    "NodeState": ".contract.states",
    "Outputs": ".execution.result",
    "PluginError": "._errors",
    "Resources": ".contract.resources",
    "RunInfo": ".contract.runinfo",
    "RunOptions": ".contract.options",
    "RunResult": ".execution.result",
    "SelectFiles": ".workflow.files_io",
    "Sink": ".workflow.files_io",
    "Task": ".workflow.task",
    "ValidationError": "._errors",
    "Workflow": ".workflow.workflow",
    "WorkflowError": "._errors",
    "hookimpl": ".contract.markers",
    "installed_backends": ".contract.manager",
    "kill_process_tree": "._processes",
    "log_to_stderr": "._logs",
    "plugin_manager": ".contract.manager",
    "register": ".contract.manager",
    "unregister": ".contract.manager",
}

__version__ = "0.1.0"

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
