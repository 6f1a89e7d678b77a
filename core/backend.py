"""Everything a backend author needs, and nothing a plugin should reach past: the
declaration (:class:`Backend`, :class:`Capabilities`), the two executor shapes and
what they exchange with the core (:class:`Job`, :class:`ExecutionGraph`,
:class:`Completion`, :class:`Status`, :class:`Verdict`, :class:`GraphEvents`,
:class:`RunContext`), and the helpers the bundled backends share (atomic writes into
the result store, a completion queue, back-off, log tails, killing a process tree, the record of a
scheduler job a later run re-attaches to, naming where a job runs).

A backend plugin imports ``flowmill.backend`` and ``flowmill.hookimpl``; every other
module of the core is private and may change without notice. See docs/plugins.md.
Names load on first use, so a batch job that imports one helper stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

if TYPE_CHECKING:
    from ._errors import PluginError, ValidationError
    from ._processes import kill_process_tree
    from .contract.helpers import CompletionQueue, backoff, tail
    from .contract.markers import hookimpl
    from .contract.options import RunOptions
    from .contract.polling import StatusPoller
    from .contract.records import matching_record, remove_record, write_record
    from .contract.resources import Resources
    from .contract.runinfo import RunInfo
    from .contract.states import CrashKind, NodeState, Status, Verdict
    from .contract.types import (CONTRACT_VERSION, Backend, Capabilities, Completion, GraphEvents, GraphExecutor,
                                 JobExecutor, RunContext)
    from .execution.graph import ExecutionGraph
    from .execution.job import Job, Ref, load_job
    from .store.code import forget_stale_modules
    from .store.locks import running_holder
    from .store.places import process_place
    from .store.results import CRASH, RESULT, atomic_write, has_crash, result_token

_EXPORTS = {
    "Backend": ".contract.types",
    "CONTRACT_VERSION": ".contract.types",
    "CRASH": ".store.results",
    "Capabilities": ".contract.types",
    "Completion": ".contract.types",
    "CompletionQueue": ".contract.helpers",
    "CrashKind": ".contract.states",
    "ExecutionGraph": ".execution.graph",
    "GraphEvents": ".contract.types",
    "GraphExecutor": ".contract.types",
    "Job": ".execution.job",
    "JobExecutor": ".contract.types",
    "NodeState": ".contract.states",
    "PluginError": "._errors",
    "RESULT": ".store.results",
    "Ref": ".execution.job",
    "Resources": ".contract.resources",
    "RunContext": ".contract.types",
    "RunInfo": ".contract.runinfo",
    "RunOptions": ".contract.options",
    "Status": ".contract.states",
    "StatusPoller": ".contract.polling",
    "ValidationError": "._errors",
    "Verdict": ".contract.states",
    "atomic_write": ".store.results",
    "backoff": ".contract.helpers",
    "has_crash": ".store.results",
    "hookimpl": ".contract.markers",
    "kill_process_tree": "._processes",
    "load_job": ".execution.job",
    "process_place": ".store.places",
    "running_holder": ".store.locks",
    "forget_stale_modules": ".store.code",
    "matching_record": ".contract.records",
    "remove_record": ".contract.records",
    "result_token": ".store.results",
    "tail": ".contract.helpers",
    "write_record": ".contract.records",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_names("flowmill", _EXPORTS, globals())
