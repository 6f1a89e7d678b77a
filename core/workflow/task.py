"""What a node runs. A task turns input values into named output values and says what
its code is, for the cache key; Python functions are one kind, command lines another."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from .._errors import FlowmillError, ValidationError
from .._workdir import working_directory
from ..store.code import code_digest, code_modules
from .codefile import file_names, restore_file_names
from .filetypes import annotated_files, as_files, missing_file

MANDATORY = inspect.Parameter.empty


class NodeError(FlowmillError):
    """The node's own code produced something the engine cannot use (e.g. a tuple of
    the wrong length for its declared outputs)."""


class Task(Protocol):
    """The runnable part of a node, shipped inside every job (so it must pickle for
    backends that run jobs elsewhere).

    A task that runs Python code may define ``libraries() -> frozenset[str]``: the
    top-level names of the modules outside the user's code that it reaches, whose
    distributions' versions ``cache_libraries=True`` records with its result.

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


class FunctionTask:
    """A plain Python function; its return value becomes the outputs.

    One output name takes the whole return value; several names take the items of a
    returned tuple or list of that length. The function runs with the node's (or the
    instance's) directory as working directory, on every backend, so relative paths it
    writes land there (see :mod:`flowmill._workdir` for how threads keep theirs apart).

    Parameters annotated ``File``, ``list[File]``, ``File | None`` or ``Optional[File]``
    take paths as ``str`` or ``Path`` and get absolute Files, hashed by content: set
    values when the workflow is built (relative to the directory it is built in; a
    missing file is refused then), connected values before the call. A single output
    annotated so (``-> File``, ``-> list[File]``) is returned as Files, relative paths
    taken from the node directory, so their content follows them downstream.
    """

    __slots__ = ("func", "output_names", "_accepts_any", "_defaults", "_files", "_returns", "_digest", "_modules")

    def __init__(self, func: Callable[..., Any], output_names: Sequence[str]) -> None:
        self.func = func
        self.output_names = tuple(output_names)
        params = inspect.signature(func).parameters.values()
        self._accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        self._defaults = {p.name: p.default for p in params
                          if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        self._files, returns = annotated_files(func)
        self._returns = returns if len(self.output_names) == 1 else None
        self._digest: str | None = None
        self._modules: frozenset[str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The state shipped with a job: the code's digest travels as the driver
        computed it, so a job that computes its own cache key where it runs neither
        re-reads a source file edited since nor falls back to another digest, and the
        function's file names travel for its tracebacks. The modules its code reaches
        travel with the digest, from the same walk."""
        state = {slot: getattr(self, slot) for slot in self.__slots__}
        state["_digest"] = self.digest()
        state["_modules"] = self.libraries()
        state["file_names"] = file_names(self.func)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        names = state.pop("file_names", {})
        state.setdefault("_modules", None)
        for slot, value in state.items():
            setattr(self, slot, value)
        restore_file_names(self.func, names)

    @property
    def accepts_any_input(self) -> bool:
        return self._accepts_any

    def input_defaults(self) -> dict[str, Any]:
        return self._defaults

    def digest(self) -> str:
        """The digest shipped with the job where it runs; in the driver, the one of
        this graph build (:func:`~flowmill.store.code.code_digest` memoises it per
        build), never one kept from an earlier run: a helper redefined since (a
        notebook cell run again) must change the key of the next run."""
        return self._digest if self._digest is not None else code_digest(self.func)

    def libraries(self) -> frozenset[str]:
        """The top-level names of the modules outside the user's code that the
        function reaches (``cache_libraries``), shipped or of this build as the digest."""
        return self._modules if self._modules is not None else code_modules(self.func)

    def prepare(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs with paths given for file-annotated parameters as absolute Files."""
        if not self._files:
            return dict(inputs)
        return {name: as_files(value, self._files[name]) if name in self._files else value
                for name, value in inputs.items()}

    def check(self, inputs: Mapping[str, Any]) -> None:
        """Refuse an input naming a file that does not exist, as a command node does:
        a File value, or a path given for a file-annotated parameter (already a File
        after :meth:`prepare`)."""
        for name, value in inputs.items():
            path = missing_file(value)
            if path is not None:
                raise ValidationError(f"input {name!r}: file {path!r} does not exist")

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        values = self.prepare(inputs)
        self.check(values)
        with working_directory(workdir):
            value = self.func(**values)
        if len(self.output_names) == 1:
            if self._returns is not None:
                value = as_files(value, self._returns, os.path.abspath(workdir))
            return {self.output_names[0]: value}
        if not isinstance(value, (tuple, list)) or len(value) != len(self.output_names):
            raise NodeError(f"{self.describe()} declares outputs {list(self.output_names)} and must return "
                            f"a tuple of {len(self.output_names)} values, but returned {type(value).__name__}"
                            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
        return dict(zip(self.output_names, value))

    def describe(self) -> str:
        return f"function {getattr(self.func, '__module__', '?')}.{getattr(self.func, '__qualname__', repr(self.func))}"
