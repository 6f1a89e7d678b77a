"""Workflows: graphs of nodes (and of other workflows) connected output -> input."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Union

from .._errors import ValidationError
from ..execution.session import Session
from ..store.hashing import HashMethod
from .build import build_graph
from .node import Node, check_name
from .picture import picture, write_picture
from .status import StatusObserver

if TYPE_CHECKING:
    from ..execution.result import RunResult

Element = Union[Node, "Workflow"]
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class ExpandedGraph:
    """The jobs of a run before it runs: ``nodes`` are job ids (``node``,
    ``node[src.x=1]``, ``map#0``...), ``edges`` (parent, child) pairs of job ids."""

    nodes: list[str]
    edges: list[tuple[str, str]]


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

    @property
    def inputs(self) -> "WorkflowInputs":
        """nipype's ``wf.inputs.<node>.<field> = value``: the inputs of this workflow's
        nodes by name, and of nested workflows' nodes through their names
        (``outer.inputs.inner.inputnode.subject = "s1"``)."""
        return WorkflowInputs(self)

    @property
    def base_dir(self) -> Path | None:
        """Where results live (``None``: the current directory at run time). nipype
        users assign it after construction, often a str: it is kept as a Path."""
        return self._base_dir

    @base_dir.setter
    def base_dir(self, value: "str | os.PathLike[str] | None") -> None:
        self._base_dir = Path(value) if value is not None else None

    def add_nodes(self, elements: Iterable[Element]) -> None:
        """Add nodes or workflows. Adding one that is already here is refused (as in
        nipype: it is usually a copy-paste slip); the same node may belong to several
        workflows, each running it in its own directory."""
        for element in elements:
            if self._elements.get(getattr(element, "name", None)) is element:
                raise ValidationError(f"{element.name!r} is already in workflow {self.name!r}")
            self._add(element)

    def _add(self, element: Element) -> None:
        if not isinstance(element, (Node, Workflow)):
            raise ValidationError(f"workflow {self.name!r}: can only add Node or Workflow objects, "
                                  f"got {type(element).__name__}")
        if self._elements.get(element.name) is element:
            return
        if element is self or (isinstance(element, Workflow) and element._holds(self)):
            raise ValidationError(f"workflow {self.name!r} cannot contain itself (through {element.name!r})")
        if element.name in self._elements:
            raise ValidationError(f"workflow {self.name!r} already has an element named {element.name!r}; "
                                  "node names must be unique within a workflow")
        self._elements[element.name] = element

    def _holds(self, other: "Workflow") -> bool:
        return any(element is other or (isinstance(element, Workflow) and element._holds(other))
                   for element in self._elements.values())

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
        ``connect([(src, dst, [(src_field, dst_field), ...]), ...])``.

        ``src_field`` may be nipype's ``(field, func, *args)``: the value reaches the
        input as ``func(value, *args)``. The function runs as a node of its own,
        ``<func>_<src>_<field>_to_<dst>_<input>``, cached like any node, so define it
        at module level (or let cloudpickle carry it) and keep it cheap."""
        for src, src_field, dst, dst_field in _connections_of(args):
            if isinstance(src_field, tuple):
                src, src_field = self._converter(src, src_field, dst, dst_field), "out"
            self._connect_one(src, src_field, dst, dst_field)

    def disconnect(self, *args: Any) -> None:
        """Undo connections, given as to :meth:`connect` (nipype's ``disconnect``); the
        nodes stay in the workflow, except the node of a connection through a function,
        which goes with it. A connection that does not exist is refused."""
        for src, src_field, dst, dst_field in _connections_of(args):
            through = self._elements.get(_converter_name(src, src_field, dst, dst_field)) \
                if isinstance(src_field, tuple) else None
            feeder, field = (through, "out") if through is not None else (src, src_field)
            entry = (feeder, field, dst, dst_field)
            if not any(c[0] is feeder and c[1:] == entry[1:] for c in self._connections):
                raise ValidationError(f"workflow {self.name!r} has no connection {src.name}.{src_field} -> "
                                      f"{dst.name}.{dst_field} to disconnect")
            self._connections = [c for c in self._connections
                                 if not (c[0] is feeder and c[1:] == entry[1:]) and c[2] is not through]
            dst_node, dst_in = _resolve(dst, dst_field)
            self._targets.pop((id(dst_node), dst_in), None)
            if through is not None:
                del self._elements[through.name]
                self._targets = {key: value for key, value in self._targets.items() if key[0] != id(through)}

    def _converter(self, src: Element, spec: tuple[Any, ...], dst: Element, dst_field: str) -> Node:
        """The node computing ``func(value, *args)`` for a connection through a function."""
        if len(spec) < 2 or not isinstance(spec[0], str) or not callable(spec[1]):
            raise ValidationError(f"connect: {spec!r} should be (output_name, function, *extra_args)")
        field, func, *extra = spec
        converter = Node(func, name=_converter_name(src, spec, dst, dst_field))
        params = converter.input_names
        if len(params) < 1 + len(extra):
            raise ValidationError(f"connect: {converter.task.describe()} takes {len(params)} argument(s), "
                                  f"but gets the value of {field!r} and {len(extra)} extra one(s)")
        for param, value in zip(params[1:], extra):
            setattr(converter.inputs, param, value)
        self._connect_one(src, field, converter, params[0])
        return converter

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

    def clone(self, name: str) -> "Workflow":
        """A copy of this workflow under another name: every node and nested workflow
        cloned, the same connections between the copies (nipype's ``Workflow.clone``)."""
        twin = Workflow(name, base_dir=self.base_dir)
        copies: dict[int, Element] = {}
        for element in self._elements.values():
            copies[id(element)] = element.clone(element.name)
            twin._add(copies[id(element)])
        for src, src_field, dst, dst_field in self._connections:
            twin._connect_one(copies[id(src)], src_field, copies[id(dst)], dst_field)
        return twin

    def expanded_graph(self, hash_method: HashMethod = "content") -> ExpandedGraph:
        """The jobs a run would have, after iterables, MapNodes and JoinNodes are
        expanded, and the dependencies between them, without running anything (nipype's
        ``generate_expanded_graph``); validates the workflow as a run would."""
        workflow_dir = Path(self.base_dir or Path.cwd()).absolute() / self.name
        graph = build_graph(self, workflow_dir, hash_method)
        return ExpandedGraph(list(graph.jobs), [(parent, job_id) for job_id in graph.topological()
                                                for parent in graph.parents[job_id]])

    def run(self, plugin: str | None = None, plugin_args: Mapping[str, Any] | None = None, *,
            inseries: bool = False, **options: Any) -> "RunResult":
        """Run the workflow on the backend named ``plugin`` (default: ``linear``).

        Backend and run options come as keywords (``n_procs=4``) or, as in nipype, as a
        ``plugin_args`` dict; both are validated before anything runs. nipype's
        ``status_callback`` (a function of the job and ``"start"``, ``"end"``,
        ``"exception"``, ``"cached"`` or ``"skipped"``) observes this run. Raises
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
        callback = merged.pop("status_callback", None)
        session = Session(self.name, self.base_dir, plugin or "linear", merged)
        graph = build_graph(self, session.workflow_dir, session.run_options.hash_method,
                            session.run_options.cache_libraries)
        if callback is None:
            return session.run(graph)
        with StatusObserver(callback):
            return session.run(graph)

    def write_graph(self, path: str | os.PathLike[str], *, expanded: bool = False) -> Path:
        """Draw the workflow into ``path``: ``.dot`` (Graphviz), ``.mmd`` (Mermaid), or
        ``.svg``/``.png``/``.pdf`` (drawn by Graphviz's ``dot``, if installed). One box
        per node, or with ``expanded=True`` one per job (iterables and map elements
        unfolded); coloured by the last run's states when the workflow has run."""
        workflow_dir = Path(self.base_dir or Path.cwd()).absolute() / self.name
        return write_picture(self.name, picture(self, workflow_dir, expanded), Path(path))

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, {len(self._elements)} elements)"


class WorkflowInputs:
    """Attribute access to the inputs of a workflow's elements; see :attr:`Workflow.inputs`."""

    __slots__ = ("_workflow",)

    def __init__(self, workflow: Workflow) -> None:
        self._workflow = workflow

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._workflow.get_node(name).inputs

    def __dir__(self) -> list[str]:
        return sorted(self._workflow._elements)


def _connections_of(args: tuple[Any, ...]) -> Iterator[tuple[Element, Any, Element, str]]:
    """The (src, src_field, dst, dst_field) connections in either form of :meth:`Workflow.connect`."""
    if len(args) == 4:
        yield args  # type: ignore[misc]
    elif len(args) == 1 and isinstance(args[0], (list, tuple)):
        for item in args[0]:
            if not (isinstance(item, (list, tuple)) and len(item) == 3):
                raise ValidationError("connect([...]) takes a list of (src, dst, [(src_field, dst_field), ...])")
            src, dst, pairs = item
            for pair in pairs:
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                    raise ValidationError(f"connect: {pair!r} is not a (src_field, dst_field) pair")
                yield src, pair[0], dst, pair[1]
    else:
        raise ValidationError("connect takes (src, src_field, dst, dst_field) or a list of "
                              "(src, dst, [(src_field, dst_field), ...])")


def _converter_name(src: Element, spec: tuple[Any, ...], dst: Element, dst_field: str) -> str:
    name = f"{getattr(spec[1], '__name__', 'func')}_{src.name}_{spec[0]}_to_{dst.name}_{dst_field}"
    return _UNSAFE.sub("_", name)


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
