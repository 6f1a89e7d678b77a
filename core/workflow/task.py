"""What a node runs. A task turns input values into named output values and says what
its code is, for the cache key; Python functions are one kind, command lines another."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from .._errors import FlowmillError, ValidationError
from ..store.files import File
from ..store.hashing import code_digest

MANDATORY = inspect.Parameter.empty


class NodeError(FlowmillError):
    """The node's own code produced something the engine cannot use (e.g. a tuple of
    the wrong length for its declared outputs)."""


class Task(Protocol):
    """The runnable part of a node, shipped inside every job (so it must pickle for
    backends that run jobs elsewhere).

    A task may also define two hooks the workflow calls while it builds the jobs,
    before anything runs, with each instance's input values known then (set values,
    defaults, iterables and MapNode elements; connected inputs are absent):
    ``prepare(inputs) -> inputs`` returns them normalised (a command turns paths given
    for file inputs into absolute :class:`~flowmill.File` values, so they are hashed by
    content), and ``check(inputs)`` raises :class:`~flowmill.ValidationError` for what
    is wrong already (a command's executable that is not installed, an input file that
    does not exist).
    """

    output_names: Sequence[str]

    def input_defaults(self) -> Mapping[str, Any]:
        """Every input name, mapped to its default or to ``MANDATORY``."""
        ...

    def digest(self) -> str:
        """Hash of the code, so that an edited task invalidates its cached results."""
        ...

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        """Compute the outputs; ``workdir`` is the node's own directory."""
        ...

    def describe(self) -> str:
        """One line for crash files and listings."""
        ...


def missing_file(name: str, value: Any) -> str | None:
    """What is wrong with an input whose value is (or lists) a :class:`~flowmill.File`
    that does not exist, or None: a node cannot use it, and its cache key would only
    say "missing"."""
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, File) and not item.exists():
            return f"input {name!r}: file {str(item)!r} does not exist"
    return None


class FunctionTask:
    """A plain Python function; its return value becomes the outputs.

    One output name takes the whole return value; several names take the items of a
    returned tuple or list of that length.
    """

    __slots__ = ("func", "output_names", "_accepts_any", "_defaults")

    def __init__(self, func: Callable[..., Any], output_names: Sequence[str]) -> None:
        self.func = func
        self.output_names = tuple(output_names)
        params = inspect.signature(func).parameters.values()
        self._accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        self._defaults = {p.name: p.default for p in params
                          if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}

    @property
    def accepts_any_input(self) -> bool:
        return self._accepts_any

    def input_defaults(self) -> dict[str, Any]:
        return self._defaults

    def digest(self) -> str:
        return code_digest(self.func)

    def check(self, inputs: Mapping[str, Any]) -> None:
        """Refuse, before anything runs, a File input that does not exist (as a
        command node does)."""
        for name, value in inputs.items():
            problem = missing_file(name, value)
            if problem:
                raise ValidationError(problem)

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        value = self.func(**inputs)
        if len(self.output_names) == 1:
            return {self.output_names[0]: value}
        if not isinstance(value, (tuple, list)) or len(value) != len(self.output_names):
            raise NodeError(f"{self.describe()} declares outputs {list(self.output_names)} and must return "
                            f"a tuple of {len(self.output_names)} values, but returned {type(value).__name__}"
                            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
        return dict(zip(self.output_names, value))

    def describe(self) -> str:
        return f"function {getattr(self.func, '__module__', '?')}.{getattr(self.func, '__qualname__', repr(self.func))}"
