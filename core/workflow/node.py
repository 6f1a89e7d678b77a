"""Nodes: one step of a pipeline, with named inputs and outputs."""

from __future__ import annotations

import copy
import os
import re
import uuid
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .._errors import ValidationError
from ..contract.resources import Resources
from .task import MANDATORY, FunctionTask, Task

if TYPE_CHECKING:
    from ..execution.result import Outputs

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
    ``resources`` states what the node needs (cpus, mem_gb, walltime); nipype's
    ``n_procs=`` and ``mem_gb=`` keywords are its cpus and mem_gb. ``overwrite=True``
    runs the node on every run, whatever the cache holds (its dependants still reuse
    their results when its outputs did not change). ``run_without_submitting=True``
    runs it in the driver on job-level backends, for a node too small to be worth a
    job of its own (graph-level backends schedule every node themselves).
    """

    def __init__(self, func: "Callable[..., Any] | Task", name: str | None = None,
                 outputs: Sequence[str] | None = None, version: str | None = None, *,
                 plugin_args: Mapping[str, Any] | None = None,
                 resources: "Mapping[str, Any] | Resources | None" = None,
                 n_procs: int | None = None, mem_gb: float | None = None, overwrite: bool = False,
                 run_without_submitting: bool = False,
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
        self.resources = _with_nipype_keywords(self.name, resources, n_procs, mem_gb)
        self.overwrite = overwrite
        self.run_without_submitting = run_without_submitting
        self.iterables = iterables
        self.synchronize = synchronize
        self.itersource = itersource
        self.result: "Outputs | None" = None
        """The outputs of the last :meth:`run` of this node on its own."""

    def clone(self, name: str) -> "Node":
        """A copy of this node under another name, with its own copy of the input
        values and settings, in no workflow (nipype's ``Node.clone``)."""
        twin = copy.copy(self)
        twin.name = check_name("node", name)
        twin.inputs = Inputs(twin)
        object.__getattribute__(twin.inputs, "_values").update(copy.deepcopy(self.set_inputs()))
        twin.plugin_args = copy.deepcopy(self.plugin_args)
        twin.iterables = copy.deepcopy(self.iterables)
        twin.result = None
        return twin

    def run(self, base_dir: "str | os.PathLike[str] | None" = None, plugin: str = "linear",
            **options: Any) -> "Outputs":
        """Run this node on its own with the inputs set on it (nipype's ``Node.run``):
        its result lives in ``base_dir/<name>/`` (default: the current directory) and
        is cached like any node's. Returns the outputs, also kept in :attr:`result`.
        A node with iterables, or a map or join needing upstream values, runs in a
        workflow instead."""
        from .workflow import Workflow

        if self.iterables:
            raise ValidationError(f"node {self.name!r} has iterables: run it in a workflow, where each "
                                  "instance gets its own directory")
        alone = Workflow(self.name, base_dir=base_dir)
        alone.add_nodes([self])
        self.result = alone.run(plugin=plugin, **options)[self.name]
        return self.result

    def cache_version(self) -> str | None:
        """What the cache key takes of the version: ``version``, made unique to this
        build when the node must always run (``overwrite``)."""
        if not self.overwrite:
            return self.version
        return f"{self.version}|overwrite {uuid.uuid4().hex}"

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


def _with_nipype_keywords(node: str, resources: "Mapping[str, Any] | Resources | None",
                          n_procs: int | None, mem_gb: float | None) -> "Mapping[str, Any] | Resources | None":
    """``resources`` with nipype's ``n_procs`` and ``mem_gb`` node keywords folded in
    (as cpus and mem_gb); saying one thing twice differently is refused."""
    if n_procs is None and mem_gb is None:
        return resources
    merged = dict(vars(resources) if isinstance(resources, Resources) else resources or {})
    for key, value in (("cpus", n_procs), ("mem_gb", mem_gb)):
        if value is None:
            continue
        if merged.get(key) not in (None, value):
            raise ValidationError(f"node {node!r}: resources[{key!r}]={merged[key]!r} and the keyword "
                                  f"{'n_procs' if key == 'cpus' else 'mem_gb'}={value!r} disagree; give one")
        merged[key] = value
    return merged
