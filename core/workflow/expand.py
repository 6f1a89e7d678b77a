"""Expansion of iterables, JoinNodes and MapNodes into concrete node instances.

nipype's semantics: a node with ``iterables`` and everything downstream of it are
instantiated once per value (a Cartesian product over several iterables, zipped with
``synchronize=True``; an ``itersource`` picks the values from an upstream iterable's
value); a JoinNode collapses the expansion of its ``joinsource`` back into lists.

Each node's instances are contexts: tuples of value indices over the iterable nodes
("axes") upstream of it. A node's contexts are the compatible combinations of its
parents' contexts, joined on their shared axes through a hash index, so expansion
costs O(instances + edges), never a product of parent lists.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .._errors import ValidationError
from ..contract.resources import Resources
from ..execution.job import Job, Ref
from ..store.hashing import HashMethod
from .mapping import (
    GatherTask,
    JoinNode,
    MapNode,
    MapTask,
    UniqueJoinTask,
    element_job,
    elements,
)
from .node import Node
from .task import MANDATORY

if TYPE_CHECKING:
    from .workflow import Edge

Ctx = tuple[int, ...]
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass
class Plan:
    """The instances of one node: its axes and one context per instance."""

    axes: tuple[str, ...]
    instances: list[Ctx]
    job_ids: dict[Ctx, str]


@dataclass
class Join:
    """What a JoinNode collapses: the axis of its joinsource, and for each joined input
    the upstream contexts grouped by their context without that axis (empty for any
    other node)."""

    axis: str | None = None
    groups: dict[str, dict[Ctx, list[Ctx]]] = dataclasses.field(default_factory=dict)


def _group_without(plan: Plan, axis: str) -> dict[Ctx, list[Ctx]]:
    keep = [i for i, a in enumerate(plan.axes) if a != axis]
    groups: dict[Ctx, list[Ctx]] = defaultdict(list)
    for ctx in plan.instances:
        groups[tuple(ctx[i] for i in keep)].append(ctx)
    return groups


class AxisSpec:
    """The iterables of one node, as the list of parameter dicts it expands into."""

    def __init__(self, path: str, node: Node, source: tuple[str, str] | None) -> None:
        self.path = path
        self.node = node
        self.source = source
        self.pairs, zipped = _iterable_pairs(path, node)
        self.zipped = zipped or node.synchronize
        self._cache: dict[Any, list[dict[str, Any]]] = {}

    def values(self, key: Any = None) -> list[dict[str, Any]]:
        cache_key = repr(key)
        if cache_key not in self._cache:
            columns = []
            for field, values in self.pairs:
                if self.source is not None:
                    if not isinstance(values, Mapping) or key not in values:
                        raise ValidationError(
                            f"node {self.path!r}: with itersource {self.source}, iterables for {field!r} must be "
                            f"a dict keyed by the values of {self.source[0]}.{self.source[1]}; no entry for {key!r}")
                    values = values[key]
                columns.append([(field, value) for value in values])
            if self.zipped:
                lengths = {len(column) for column in columns}
                if len(lengths) > 1:
                    raise ValidationError(f"node {self.path!r}: synchronize=True zips iterables of unequal "
                                          f"lengths {sorted(lengths)}; give them equal lengths (nipype "
                                          "would pad the shorter ones with None, which then runs as an input)")
                combos = zip(*columns)
            else:
                combos = itertools.product(*columns)
            self._cache[cache_key] = [dict(combo) for combo in combos]
        return self._cache[cache_key]


def _iterable_pairs(path: str, node: Node) -> tuple[list[tuple[str, Any]], bool]:
    """The (field, values) pairs of a node's iterables, and whether they come zipped:
    nipype's synchronized form ``[("f1", "f2"), [(1, 3), (2, 4)]]`` gives one tuple of
    values per instance."""
    spec = node.iterables
    if _is_zipped_form(spec):
        fields, rows = spec
        bad = [row for row in rows if not (isinstance(row, (tuple, list)) and len(row) == len(fields))]
        if bad:
            raise ValidationError(f"node {path!r}: iterables {tuple(fields)} take one value for each field per "
                                  f"instance, got {bad[0]!r}")
        spec, zipped = [(field, [row[i] for row in rows]) for i, field in enumerate(fields)], True
    else:
        zipped = False
    pairs = [spec] if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) else list(spec)
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ValidationError(f"node {path!r}: iterables must be ('field', [values]) or a list of such "
                                  f"pairs, got {pair!r}")
        if pair[0] not in node.task.input_defaults():
            raise ValidationError(f"node {path!r}: iterables name {pair[0]!r}, which is not an input; "
                                  f"its inputs are {node.input_names}")
        if not isinstance(pair[1], (list, tuple, Mapping)):
            raise ValidationError(f"node {path!r}: iterables values for {pair[0]!r} must be a list, "
                                  f"got {type(pair[1]).__name__}")
    return [(field, values) for field, values in pairs], zipped


def _is_zipped_form(spec: Any) -> bool:
    return (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], tuple)
            and len(spec[0]) > 0 and all(isinstance(field, str) for field in spec[0])
            and isinstance(spec[1], (list, tuple)))


def _label(value: Any) -> str:
    """A short, file-name-safe label for a parameter value; paths are named by their
    last component. A label that differs from the value's full text gets a short hash
    of it, so two values never share a directory."""
    text = str(value)
    short = os.path.basename(text.rstrip("/")) or text if isinstance(value, (str, PurePath)) else text
    safe = _UNSAFE.sub("_", short)[:40]
    if safe != text:
        safe += "-" + hashlib.blake2b(repr(value).encode(), digest_size=3).hexdigest()
    return safe


class Expander:
    """Builds every job of a flattened workflow; see the module docstring."""

    def __init__(self, nodes: Mapping[str, Node], incoming: Mapping[str, Mapping[str, Edge]],
                 order: Sequence[str], dirs: Mapping[str, Path], hash_method: HashMethod,
                 cache_libraries: bool = False) -> None:
        self.nodes = nodes
        self.incoming = incoming
        self.order = order
        self.dirs = dirs
        self.keying = {"hash_method": hash_method, "cache_libraries": cache_libraries}
        """The run options every job's key follows."""
        self.paths = {id(node): path for path, node in nodes.items()}
        self.axes: dict[str, AxisSpec] = {}
        self.axis_rank: dict[str, int] = {}
        self.plans: dict[str, Plan] = {}
        self.jobs: dict[str, Job] = {}
        self.parents: dict[str, tuple[str, ...]] = {}
        self.expansions: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.map_elements: dict[str, list[str]] = {}

    def _resolve(self, path: str, what: str, ref: "Node | str") -> str:
        if isinstance(ref, Node):
            found = self.paths.get(id(ref))
        else:
            prefix = path.rpartition(".")[0]
            found = f"{prefix}.{ref}" if prefix else ref
            found = found if found in self.nodes else None
        if found is None:
            raise ValidationError(f"node {path!r}: {what} {getattr(ref, 'name', ref)!r} is not a node of this "
                                  "workflow")
        return found

    def params(self, axis: str, ctx: Mapping[str, int]) -> dict[str, Any]:
        spec = self.axes[axis]
        key = None
        if spec.source is not None:
            key = self._source_key(axis, ctx)
        return spec.values(key)[ctx[axis]]

    def _source_key(self, axis: str, ctx: Mapping[str, int]) -> Any:
        """The value of the itersource's field(s) in this context: one value, or a
        tuple of values for several fields (the keys of the iterables' dict)."""
        source, fields = self.axes[axis].source  # type: ignore[misc]
        upstream = self.params(source, ctx)
        names = (fields,) if isinstance(fields, str) else fields
        missing = [name for name in names if name not in upstream]
        if missing:
            raise ValidationError(f"node {axis!r}: itersource field(s) {missing} are not iterables of "
                                  f"{source!r}, whose iterables are {sorted(upstream)}")
        return upstream[fields] if isinstance(fields, str) else tuple(upstream[name] for name in fields)

    def _choices(self, axis: str, ctx: Mapping[str, int]) -> int:
        spec = self.axes[axis]
        if spec.source is None:
            return len(spec.values())
        if spec.source[0] not in ctx:
            raise ValidationError(f"node {axis!r}: itersource {spec.source[0]!r} is not an upstream node with "
                                  "iterables; connect it upstream or drop itersource")
        return len(spec.values(self._source_key(axis, ctx)))

    def _merge(self, plans: Iterable[tuple[tuple[str, ...], list[Ctx]]]) -> tuple[tuple[str, ...], list[Ctx]]:
        acc_axes: tuple[str, ...] = ()
        acc: list[Ctx] = [()]
        for axes, instances in plans:
            shared = [a for a in acc_axes if a in axes]
            merged_axes = tuple(sorted(set(acc_axes) | set(axes), key=self.axis_rank.__getitem__))
            if merged_axes == acc_axes and not axes:
                continue
            pos1 = {a: i for i, a in enumerate(acc_axes)}
            pos2 = {a: i for i, a in enumerate(axes)}
            index: dict[Ctx, list[Ctx]] = defaultdict(list)
            for ctx in instances:
                index[tuple(ctx[pos2[a]] for a in shared)].append(ctx)
            out = []
            for ctx1 in acc:
                for ctx2 in index.get(tuple(ctx1[pos1[a]] for a in shared), ()):
                    values = {a: ctx1[pos1[a]] for a in acc_axes}
                    values.update({a: ctx2[pos2[a]] for a in axes})
                    out.append(tuple(values[a] for a in merged_axes))
            acc_axes, acc = merged_axes, out
        acc.sort()
        return acc_axes, acc

    def build(self) -> None:
        for path in self.order:
            node = self.nodes[path]
            if node.iterables is not None:
                source = None
                if node.itersource is not None:
                    source = self._itersource(path, node.itersource)
                self.axes[path] = AxisSpec(path, node, source)
                self.axis_rank[path] = len(self.axis_rank)
            self._plan(path, node)

    def _itersource(self, path: str, itersource: Any) -> tuple[str, "str | tuple[str, ...]"]:
        """``(node, field)`` or ``(node, (field, ...))``, the node resolved to its path."""
        fields = itersource[1] if isinstance(itersource, (tuple, list)) and len(itersource) == 2 else None
        if isinstance(fields, (tuple, list)) and fields and all(isinstance(f, str) for f in fields):
            fields = tuple(fields)
        elif not isinstance(fields, str):
            raise ValidationError(f"node {path!r}: itersource must be ('node', 'field') or ('node', ('field', "
                                  f"...)), got {itersource!r}")
        return self._resolve(path, "itersource", itersource[0]), fields

    def _plan(self, path: str, node: Node) -> None:
        """Find the instances of one node from its parents' and build each one's jobs."""
        join = self._join(path, node) if isinstance(node, JoinNode) else Join()
        axes, instances = self._merge(self._parent_contexts(path, join))
        if path in self.axes:
            axes, instances = self._own_axis(path, axes, instances)
        plan = Plan(axes, instances, {})
        self.plans[path] = plan
        self.expansions[path] = []
        for ctx in instances:
            self._instance(path, node, plan, ctx, join)

    def _join(self, path: str, node: JoinNode) -> Join:
        """Check a JoinNode's joinsource and joinfields, and group each joined input's
        upstream instances by their context without the joinsource's axis."""
        incoming = self.incoming[path]
        axis = self._resolve(path, "joinsource", node.joinsource)
        carriers = {f: e for f, e in incoming.items() if axis in self.plans[e.src].axes}
        if axis not in self.axes or not carriers:
            raise ValidationError(f"JoinNode {path!r}: joinsource {axis!r} is not upstream of it or has "
                                  "no iterables; join over a node with iterables that feeds this one")
        fields = node.joinfield if node.joinfield is not None else list(carriers)
        for field in fields:
            if field not in carriers:
                raise ValidationError(f"JoinNode {path!r}: joinfield {field!r} is not connected from the "
                                      f"expansion of {axis!r}; connect it or drop it from joinfield")
        stray = sorted(set(carriers) - set(fields))
        if stray:
            raise ValidationError(f"JoinNode {path!r}: input(s) {stray} come from the expansion of "
                                  f"{axis!r} but are not in joinfield; add them to joinfield")
        return Join(axis, {field: _group_without(self.plans[incoming[field].src], axis) for field in fields})

    def _parent_contexts(self, path: str, join: Join) -> list[tuple[tuple[str, ...], list[Ctx]]]:
        """Each incoming connection's axes and contexts; a joined one without the
        joinsource's axis, one context per group it collapses into."""
        contexts = []
        for field, edge in self.incoming[path].items():
            plan = self.plans[edge.src]
            if field in join.groups:
                contexts.append((tuple(a for a in plan.axes if a != join.axis), sorted(join.groups[field])))
            else:
                contexts.append((plan.axes, plan.instances))
        return contexts

    def _own_axis(self, path: str, axes: tuple[str, ...],
                  instances: list[Ctx]) -> tuple[tuple[str, ...], list[Ctx]]:
        """Expand every inherited context once per value of the node's own iterables."""
        expanded = [ctx + (i,) for ctx in instances for i in range(self._choices(path, dict(zip(axes, ctx))))]
        return axes + (path,), expanded

    def _instance(self, path: str, node: Node, plan: Plan, ctx: Ctx, join: Join) -> None:
        """Build the job(s) of one instance of a node."""
        ctx_map = dict(zip(plan.axes, ctx))
        job_id, job_dir = self._identify(path, plan, ctx, ctx_map)
        inputs = self._static_inputs(path, node, ctx_map)
        refs, parents = self._upstream(path, ctx_map, join)
        missing = [name for name in node.mandatory_inputs if name not in inputs and name not in refs]
        if missing:
            raise ValidationError(f"node {path!r}: mandatory input(s) {missing} are neither set nor connected; "
                                  f"set them (node.inputs.{missing[0]} = ...) or connect an upstream output")
        task = node.task
        if isinstance(node, JoinNode) and node.unique:
            task = UniqueJoinTask(task, list(join.groups))
        resources = Resources.parse(path, node.resources)
        if isinstance(node, MapNode):
            self._map_jobs(path, job_id, job_dir, node, task, inputs, refs, parents, resources)
            return
        self._add(Job(job_id, job_dir, task, _checked(path, node.task, inputs), refs, version=node.cache_version(),
                      in_driver=node.run_without_submitting,
                      resources=resources, plugin_args=node.plugin_args, **self.keying), parents)

    def _identify(self, path: str, plan: Plan, ctx: Ctx, ctx_map: Mapping[str, int]) -> tuple[str, Path]:
        """An instance's job id and directory, named by its iterables' values, recorded
        in the node's plan and expansions."""
        params: dict[str, Any] = {}
        for axis in plan.axes:
            for field, value in self.params(axis, ctx_map).items():
                params[f"{axis}.{field}"] = value
        if params:
            job_id = f"{path}[" + ",".join(f"{k}={v!r}" for k, v in params.items()) + "]"
            job_dir = self.dirs[path] / "_".join(f"{k}-{_label(v)}" for k, v in params.items())
        else:
            job_id, job_dir = path, self.dirs[path]
        plan.job_ids[ctx] = job_id
        self.expansions[path].append((job_id, params))
        return job_id, job_dir

    def _static_inputs(self, path: str, node: Node, ctx_map: Mapping[str, int]) -> dict[str, Any]:
        """Defaults, then values set on the node, then this instance's iterables; minus
        the inputs that come through connections."""
        inputs = {name: value for name, value in node.task.input_defaults().items() if value is not MANDATORY}
        inputs.update(node.set_inputs())
        if path in self.axes:
            inputs.update(self.params(path, ctx_map))
        for field in self.incoming[path]:
            inputs.pop(field, None)
        return inputs

    def _upstream(self, path: str, ctx_map: Mapping[str, int],
                  join: Join) -> tuple[dict[str, Ref | list[Ref]], list[str]]:
        """The references to upstream outputs this instance reads (a list of them for a
        joined input), and the upstream jobs it waits for."""
        refs: dict[str, Ref | list[Ref]] = {}
        parents: list[str] = []
        for field, edge in self.incoming[path].items():
            up = self.plans[edge.src]
            if field in join.groups:
                keep = [a for a in up.axes if a in ctx_map]
                ids = [up.job_ids[member] for member in join.groups[field][tuple(ctx_map[a] for a in keep)]]
                refs[field] = [Ref(up_id, edge.src_field, str(self.jobs[up_id].dir)) for up_id in ids]
                parents.extend(ids)
            else:
                up_id = up.job_ids[tuple(ctx_map[a] for a in up.axes)]
                refs[field] = Ref(up_id, edge.src_field, str(self.jobs[up_id].dir))
                parents.append(up_id)
        return refs, parents

    def _map_jobs(self, path: str, job_id: str, job_dir: Path, node: MapNode, task: Any, inputs: dict[str, Any],
                  refs: dict[str, Ref | list[Ref]], parents: list[str], resources: Resources) -> None:
        """A MapNode instance: one job looping over elements only known at run time, or
        one job per element plus a gather job."""
        connected = [field for field in node.iterfield if field in refs]
        elementwise = self._elementwise(node, connected, refs)
        if connected and elementwise is None:
            inputs.update(_checked(path, node.task, {k: v for k, v in inputs.items() if k not in node.iterfield}))
            self._add(Job(job_id, job_dir, MapTask(job_id, task, node.iterfield, node.nested, self.keying),
                          inputs, refs, version=node.cache_version(), in_driver=node.run_without_submitting,
                          resources=resources, plugin_args=node.plugin_args, **self.keying), parents)
        else:
            self._expand_map(job_id, job_dir, node, inputs, refs, parents, resources, elementwise or {})

    def _add(self, job: Job, parents: Sequence[str]) -> None:
        self.jobs[job.id] = job
        self.parents[job.id] = tuple(dict.fromkeys(parents))

    def _elementwise(self, node: MapNode, connected: Sequence[str],
                     refs: Mapping[str, Ref | list[Ref]]) -> dict[str, list[Ref]] | None:
        """For iterfields fed by the output list of an expanded MapNode, the matching
        element outputs, so element i of this map waits only for element i upstream
        (and SGE can hold arrays element-wise); None when some iterfield's list is only
        known at run time."""
        if not connected or node.nested:
            return None
        matched: dict[str, list[Ref]] = {}
        for field in connected:
            ref = refs[field]
            children = self.map_elements.get(ref.job_id) if isinstance(ref, Ref) else None
            if children is None:
                return None
            matched[field] = [Ref(child, ref.output, str(self.jobs[child].dir)) for child in children]
        return matched

    def _expand_map(self, job_id: str, job_dir: Path, node: MapNode, inputs: dict[str, Any],
                    refs: dict[str, Ref | list[Ref]], parents: list[str], resources: Resources,
                    elementwise: Mapping[str, list[Ref]]) -> None:
        static = [field for field in node.iterfield if field not in elementwise]
        items, shape = elements(job_id, static, inputs, node.nested) if static else ([], None)
        lengths = {field: len(upstream) for field, upstream in elementwise.items()}
        if static:
            lengths.update({field: len(items) for field in static})
        if len(set(lengths.values())) > 1:
            raise ValidationError(f"MapNode {job_id!r}: iterfields have unequal lengths {lengths}; they are "
                                  "zipped, so give them equal lengths")
        count = next(iter(lengths.values()))
        items = items or [{} for _ in range(count)]
        fixed = {k: v for k, v in inputs.items() if k not in node.iterfield}
        shared_refs = {k: v for k, v in refs.items() if k not in elementwise}
        shared_parents = [p for p in parents if not any(isinstance(refs[f], Ref) and refs[f].job_id == p
                                                        for f in elementwise)]
        gather_refs: dict[str, Ref | list[Ref]] = {name: [] for name in node.task.output_names}
        children = []
        for index, item in enumerate(items):
            child_inputs = _checked(f"{job_id}#{index}", node.task, {**fixed, **item})
            child_refs = {**shared_refs, **{field: upstream[index] for field, upstream in elementwise.items()}}
            child = element_job(job_id, job_dir, index, node.task, child_inputs, child_refs,
                                version=node.cache_version(), in_driver=node.run_without_submitting,
                                resources=resources, plugin_args=node.plugin_args, group=job_id,
                                **self.keying)
            self._add(child, shared_parents + [upstream[index].job_id for upstream in elementwise.values()])
            children.append(child.id)
            for name in node.task.output_names:
                gather_refs[name].append(Ref(child.id, name, str(child.dir)))  # type: ignore[union-attr]
        if shape is None:
            self.map_elements[job_id] = children
        self._add(Job(job_id, job_dir, GatherTask(node.task, shape), {}, gather_refs, **self.keying,
                      plugin_args=node.plugin_args), children)


def _checked(where: str, task: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """A task's own say on its static inputs before anything runs (see :class:`Task`):
    ``prepare`` normalises them (a command turns paths into absolute Files), ``check``
    refuses what is already wrong; both are optional."""
    prepare = getattr(task, "prepare", None)
    check = getattr(task, "check", None)
    try:
        if prepare is not None:
            inputs = prepare(inputs)
        if check is not None:
            check(inputs)
    except ValidationError as exc:
        raise ValidationError(f"node {where!r}: {exc}") from None
    return inputs
