"""Nodes: one step of a pipeline, with named inputs and outputs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .._errors import ValidationError
from ..contract.resources import Resources
from .task import MANDATORY, FunctionTask, Task

if TYPE_CHECKING:
    from .workflow import Workflow

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationError(f"{kind} name {name!r} is not valid: use letters, digits, '_' and '-', "
                              "starting with a letter or '_' (it names a directory and is used in dotted paths)")
    return name


class Inputs:
    """A node's input values, set as attributes: ``node.inputs.x = 1``.

    Names are checked when set, so a typo fails at once with the valid names instead
    of being silently ignored.
    """

    __slots__ = ("_node", "_values")

    def __init__(self, node: "Node") -> None:
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name: str, value: Any) -> None:
        self._node._check_input(name)
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        node = object.__getattribute__(self, "_node")
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        node._check_input(name)
        default = node.task.input_defaults().get(name, MANDATORY)
        if default is MANDATORY:
            raise AttributeError(f"input {name!r} of node {node.name!r} is not set")
        return default

    def __delattr__(self, name: str) -> None:
        self._values.pop(name, None)

    def __repr__(self) -> str:
        return f"Inputs({self._values!r})"


class Node:
    """One step of a pipeline: a function (or another task) with named inputs and outputs.

    ``outputs`` names what the function returns (default ``["out"]``); ``version`` is
    folded into the cache key, for changes the source text does not show (a new
    release of a library the function calls). ``plugin_args`` are backend options for
    this node only, merged over the run's option by option (appended, replaced, or
    refused for an option that applies to the whole run: see :func:`merge_node_options`);
    ``resources`` states what the node needs (cpus, mem_gb, walltime).
    """

    def __init__(self, func: "Callable[..., Any] | Task", name: str | None = None,
                 outputs: Sequence[str] | None = None, version: str | None = None, *,
                 plugin_args: Mapping[str, Any] | None = None,
                 resources: "Mapping[str, Any] | Resources | None" = None,
                 iterables: Any = None, synchronize: bool = False, itersource: Any = None) -> None:
        if callable(func) and not hasattr(func, "input_defaults"):
            if name is None:
                name = getattr(func, "__name__", None)
                if name == "<lambda>":
                    raise ValidationError("a lambda needs an explicit node name: Node(lambda x: ..., name='...')")
            task: Task = FunctionTask(func, tuple(outputs) if outputs else ("out",))
        elif hasattr(func, "input_defaults"):
            task = func  # type: ignore[assignment]
        else:
            raise ValidationError(f"Node needs a function or a task, got {type(func).__name__}")
        self.name = check_name("node", name)  # type: ignore[arg-type]
        if len(set(task.output_names)) != len(task.output_names):
            raise ValidationError(f"node {self.name!r}: output names {list(task.output_names)} repeat a name")
        self.task = task
        self.version = version
        self.inputs = Inputs(self)
        self.plugin_args: dict[str, Any] = dict(plugin_args or {})
        self.resources = resources
        self.iterables = iterables
        self.synchronize = synchronize
        self.itersource = itersource
        self.workflow: "Workflow | None" = None

    @property
    def input_names(self) -> list[str]:
        return list(self.task.input_defaults())

    def set_inputs(self) -> dict[str, Any]:
        """The input values set on this node (defaults and connections not included)."""
        return dict(object.__getattribute__(self.inputs, "_values"))

    @property
    def output_names(self) -> list[str]:
        return list(self.task.output_names)

    @property
    def mandatory_inputs(self) -> list[str]:
        return [name for name, default in self.task.input_defaults().items() if default is MANDATORY]

    def _check_input(self, name: str) -> None:
        if name in self.task.input_defaults() or getattr(self.task, "accepts_any_input", False):
            return
        raise ValidationError(f"node {self.name!r} has no input {name!r}; its inputs are {self.input_names}")

    def _check_output(self, name: str) -> None:
        if name not in self.task.output_names:
            raise ValidationError(f"node {self.name!r} has no output {name!r}; its outputs are "
                                  f"{self.output_names} (name them with Node(..., outputs=[...]))")

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.task.describe()})"
