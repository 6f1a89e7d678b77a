"""Every error flowmill raises on purpose derives from FlowmillError, so callers can
catch the engine's complaints without also catching bugs in their own node code.

Two of them also derive from what nipype raises for the same thing, so that a nipype
pipeline's ``except`` clauses keep working: a wrong workflow or option is a
``ValueError`` (ValidationError), a run with failed nodes a ``RuntimeError``
(WorkflowError)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .execution.result import RunResult


class FlowmillError(Exception):
    """Base of all errors raised by flowmill itself."""


class ValidationError(FlowmillError, ValueError):
    """The workflow or the run options are wrong; raised before any node runs."""


class PluginError(FlowmillError):
    """A backend is missing, incompatible, or was given options it does not take."""


class FailedNode:
    """One failed node of a run: its name and where its crash file is."""

    __slots__ = ("name", "crash_file", "error")

    def __init__(self, name: str, crash_file: Path, error: str) -> None:
        self.name = name
        self.crash_file = crash_file
        self.error = error

    def __repr__(self) -> str:
        return f"FailedNode({self.name!r}, crash_file={str(self.crash_file)!r})"


class WorkflowError(FlowmillError, RuntimeError):
    """Raised at the end of a run in which nodes failed.

    The nodes that did finish stay cached, so fixing the cause and calling ``run``
    again only reruns what failed and what depends on it. ``result`` holds the
    partial :class:`~flowmill.RunResult`.
    """

    def __init__(self, failed: Sequence[FailedNode], result: "RunResult") -> None:
        self.failed = list(failed)
        self.result = result
        lines = [f"{len(self.failed)} node(s) failed:"]
        for node in self.failed:
            lines.append(f"  {node.name}: {node.error}")
            lines.append(f"    crash file: {node.crash_file}  (show it: flowmill crash {node.crash_file})")
        if result.skipped:
            lines.append(f"{len(result.skipped)} dependant node(s) were skipped: " + ", ".join(result.skipped[:10])
                         + (" ..." if len(result.skipped) > 10 else ""))
        super().__init__("\n".join(lines))
