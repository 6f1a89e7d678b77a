"""Workflows: graphs of nodes (and of other workflows) connected output -> input."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Union

from .._errors import ValidationError
from ..execution.session import Session
from .build import build_graph
from .node import Node, check_name

if TYPE_CHECKING:
    from ..execution.result import RunResult

Element = Union[Node, "Workflow"]


@dataclass(frozen=True)
class Edge:
    """One connection between two concrete nodes, by their dotted paths."""

    src: str
    src_field: str
    dst: str
    dst_field: str


class Workflow:
    """A graph of nodes and nested workflows.

    Results live under ``base_dir/<name>/``; a nested workflow's nodes live in a
    sub-directory named after it. Connect with ``connect(src, "out", dst, "x")`` or
    nipype's list form ``connect([(src, dst, [("out", "x")])])``; fields of a nested
    workflow are addressed by dotted names (``"node.out"``).
    """

    def __init__(self, name: str, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.name = check_name("workflow", name)
        self.base_dir = base_dir
        self._elements: dict[str, Element] = {}
        self._connections: list[tuple[Element, str, Element, str]] = []
        self._targets: dict[tuple[int, str], tuple[Element, str]] = {}
        self.workflow: Workflow | None = None

    @property
    def base_dir(self) -> Path | None:
        """Where results live (``None``: the current directory at run time). nipype
        users assign it after construction, often a str: it is kept as a Path."""
        return self._base_dir

    @base_dir.setter
    def base_dir(self, value: "str | os.PathLike[str] | None") -> None:
        self._base_dir = Path(value) if value is not None else None

    def add_nodes(self, elements: Iterable[Element]) -> None:
        for element in elements:
            self._add(element)

    def _add(self, element: Element) -> None:
        if not isinstance(element, (Node, Workflow)):
            raise ValidationError(f"workflow {self.name!r}: can only add Node or Workflow objects, "
                                  f"got {type(element).__name__}")
        if element.workflow is self:
            return
        if element.workflow is not None:
            raise ValidationError(f"{element.name!r} already belongs to workflow {element.workflow.name!r}; "
                                  "a node or workflow can be part of one workflow only (make another one)")
        if element is self:
            raise ValidationError(f"workflow {self.name!r} cannot contain itself")
        if element.name in self._elements:
            raise ValidationError(f"workflow {self.name!r} already has an element named {element.name!r}; "
                                  "node names must be unique within a workflow")
        self._elements[element.name] = element
        element.workflow = self

    def get_node(self, path: str) -> Element:
        head, _, rest = path.partition(".")
        element = self._elements.get(head)
        if element is None:
            raise ValidationError(f"workflow {self.name!r} has no node {head!r}; it has {sorted(self._elements)}")
        if rest:
            if not isinstance(element, Workflow):
                raise ValidationError(f"{head!r} in workflow {self.name!r} is a node, not a workflow: "
                                      f"{path!r} cannot be resolved")
            return element.get_node(rest)
        return element

    def connect(self, *args: Any) -> None:
        """``connect(src, src_field, dst, dst_field)`` or
        ``connect([(src, dst, [(src_field, dst_field), ...]), ...])``."""
        if len(args) == 4:
            self._connect_one(*args)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            for item in args[0]:
                if not (isinstance(item, (list, tuple)) and len(item) == 3):
                    raise ValidationError("connect([...]) takes a list of (src, dst, [(src_field, dst_field), ...])")
                src, dst, pairs = item
                for pair in pairs:
                    if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                        raise ValidationError(f"connect: {pair!r} is not a (src_field, dst_field) pair")
                    self._connect_one(src, pair[0], dst, pair[1])
        else:
            raise ValidationError("connect takes (src, src_field, dst, dst_field) or a list of "
                                  "(src, dst, [(src_field, dst_field), ...])")

    def _connect_one(self, src: Element, src_field: str, dst: Element, dst_field: str) -> None:
        if src is dst:
            raise ValidationError(f"connect: {src.name!r} cannot feed itself ({src_field} -> {dst_field})")
        for element in (src, dst):
            self._add(element)
        src_node, src_out = _resolve(src, src_field)
        dst_node, dst_in = _resolve(dst, dst_field)
        src_node._check_output(src_out)
        dst_node._check_input(dst_in)
        key = (id(dst_node), dst_in)
        previous = self._targets.get(key)
        if previous is not None:
            raise ValidationError(f"input {dst_in!r} of node {dst_node.name!r} is already connected from "
                                  f"{previous[0].name}.{previous[1]}; an input takes one connection "
                                  "(use a JoinNode or a function that merges values)")
        self._targets[key] = (src_node, src_out)
        self._connections.append((src, src_field, dst, dst_field))

    def flatten(self) -> tuple[dict[str, Node], list[Edge]]:
        """All concrete nodes by dotted path (relative to this workflow), and the edges
        between them."""
        nodes: dict[str, Node] = {}
        edges: list[Edge] = []
        self._flatten_into("", nodes, edges)
        return nodes, edges

    def _flatten_into(self, prefix: str, nodes: dict[str, Node], edges: list[Edge]) -> None:
        for name, element in self._elements.items():
            if isinstance(element, Workflow):
                element._flatten_into(f"{prefix}{name}.", nodes, edges)
            else:
                nodes[prefix + name] = element
        for src, src_field, dst, dst_field in self._connections:
            src_path, src_out = _path(prefix, src, src_field)
            dst_path, dst_in = _path(prefix, dst, dst_field)
            edges.append(Edge(src_path, src_out, dst_path, dst_in))

    def run(self, plugin: str | None = None, plugin_args: Mapping[str, Any] | None = None, *,
            inseries: bool = False, **options: Any) -> "RunResult":
        """Run the workflow on the backend named ``plugin`` (default: ``linear``).

        Backend and run options come as keywords (``n_procs=4``) or, as in nipype, as a
        ``plugin_args`` dict; both are validated before anything runs. Raises
        :class:`~flowmill.WorkflowError` if nodes failed, after running everything
        that did not depend on them.
        """
        if inseries:
            plugin = "linear"
        merged = dict(plugin_args or {})
        clash = sorted(set(merged) & set(options))
        if clash:
            raise ValidationError(f"option(s) {clash} given both as keywords and in plugin_args; give each once")
        merged.update(options)
        session = Session(self.name, self.base_dir, plugin or "linear", merged)
        return session.run(build_graph(self, session.workflow_dir, session.run_options.hash_method))

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, {len(self._elements)} elements)"


def _resolve(element: Element, field: str) -> tuple[Node, str]:
    if isinstance(element, Node):
        return element, field
    path, dot, leaf = field.rpartition(".")
    if not dot:
        raise ValidationError(f"{field!r} on workflow {element.name!r} must be a dotted 'node.field' name")
    node = element.get_node(path)
    if not isinstance(node, Node):
        raise ValidationError(f"{path!r} in workflow {element.name!r} is a workflow; name a node field")
    return node, leaf


def _path(prefix: str, element: Element, field: str) -> tuple[str, str]:
    if isinstance(element, Node):
        return prefix + element.name, field
    path, _, leaf = field.rpartition(".")
    return f"{prefix}{element.name}.{path}", leaf
