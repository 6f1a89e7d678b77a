"""Getting files into a pipeline and results out of it: nipype's SelectFiles (and
DataGrabber) and DataSink, as flowmill nodes.

Both always run (``overwrite``): what they read or write lives outside the result
store, so a cached answer could be stale. They are cheap (a glob, a copy), and nodes
downstream of a selection still reuse their results when the selected files' contents
did not change, since those are :class:`~flowmill.File` values hashed by content.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from .._errors import ValidationError
from ..store.files import File
from .node import Node, check_name
from .task import MANDATORY, NodeError
from .templates import placeholders


class SelectTask:
    """Fills each template with the inputs and globs it under ``base_directory``."""

    __slots__ = ("templates", "base_directory", "output_names", "_inputs")

    def __init__(self, templates: Mapping[str, str], base_directory: str | os.PathLike[str]) -> None:
        if not templates:
            raise ValidationError("a file selection needs at least one template")
        self.templates = {check_name("output", name): str(template) for name, template in templates.items()}
        self.base_directory = str(Path(base_directory).absolute())
        self.output_names = tuple(self.templates)
        self._inputs = list(dict.fromkeys(name for template in self.templates.values()
                                          for name in placeholders(template)))

    def input_defaults(self) -> dict[str, Any]:
        return {name: MANDATORY for name in self._inputs}

    def digest(self) -> str:
        return f"select:{self.base_directory}:{sorted(self.templates.items())}"

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, template in self.templates.items():
            pattern = os.path.join(self.base_directory, template.format(**inputs))
            found = sorted(glob.glob(pattern))
            if not found:
                raise NodeError(f"no file matches {pattern!r} (output {name!r})")
            files = [File(path) for path in found]
            outputs[name] = files[0] if len(files) == 1 else files
        return outputs

    def describe(self) -> str:
        return f"file selection under {self.base_directory}: {self.templates}"


class SinkTask:
    """Copies its inputs' files into ``<base_directory>/<container>/<instance>/<field>/``."""

    __slots__ = ("node", "base_directory", "container", "output_names", "_fields")

    def __init__(self, node: str, base_directory: str | os.PathLike[str], fields: Sequence[str],
                 container: str) -> None:
        self.node = node
        self.base_directory = str(Path(base_directory).absolute())
        self.container = container
        self._fields = tuple(check_name("field", field) for field in fields)
        if not self._fields:
            raise ValidationError(f"sink {node!r} needs at least one field")
        self.output_names = ("out_files",)

    def input_defaults(self) -> dict[str, Any]:
        return {field: None for field in self._fields}

    def digest(self) -> str:
        return f"sink:{self.base_directory}:{self.container}:{self._fields}"

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        target = Path(self.base_directory, self.container)
        if workdir.name != self.node:
            target /= workdir.name
        copied = []
        for field in self._fields:
            value = inputs.get(field)
            for path in (value if isinstance(value, (list, tuple)) else [value] if value is not None else []):
                copied.append(_copy(field, path, target / field))
        return {"out_files": copied}

    def describe(self) -> str:
        return f"sink into {Path(self.base_directory, self.container)}"


def _copy(field: str, path: Any, into: Path) -> File:
    if not isinstance(path, (str, os.PathLike)) or not os.path.exists(path):
        raise NodeError(f"sink field {field!r} got {path!r}, which is not an existing file or directory")
    into.mkdir(parents=True, exist_ok=True)
    destination = into / Path(path).name
    if os.path.isdir(path):
        shutil.copytree(path, destination, dirs_exist_ok=True)
    else:
        shutil.copy2(path, destination)
    return File(destination)


def SelectFiles(templates: Mapping[str, str], name: str, base_directory: str | os.PathLike[str] = ".",
                **kwargs: Any) -> Node:
    """A node whose outputs are the files matching each template (nipype's
    SelectFiles): ``SelectFiles({"anat": "{subject}/anat/*.nii"}, name="select",
    base_directory="data")`` has input ``subject`` (give it iterables to sweep
    subjects) and output ``anat``, a :class:`~flowmill.File`, or a sorted list of them
    when several files match. No match fails the node, naming the pattern."""
    return Node(SelectTask(templates, base_directory), name=name, overwrite=True, **kwargs)


def Sink(fields: Sequence[str], name: str, base_directory: str | os.PathLike[str], container: str = "",
         **kwargs: Any) -> Node:
    """A node that copies the files connected to its ``fields`` into a tidy tree
    (nipype's DataSink): ``<base_directory>/<container>/<instance>/<field>/<file>``,
    where ``<instance>`` names the iterables' values of this instance (the same name as
    its directory in the result store) and is left out for a node without iterables.
    Lists of files are copied item by item; unconnected fields are skipped. Its output
    ``out_files`` lists the copies."""
    return Node(SinkTask(name, base_directory, fields, container), name=name, overwrite=True, **kwargs)
