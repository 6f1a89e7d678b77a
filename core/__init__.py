"""flowmill: pipelines of Python functions and command-line tools, cached on disk,
run serially, on an IPython cluster, on Grid Engine, through Ruffus, or on any backend
a plugin provides. This module is the user's whole vocabulary."""

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
