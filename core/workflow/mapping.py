"""MapNode and JoinNode, nipype's map/reduce vocabulary, and the tasks behind them.

A MapNode runs its function once per element of its ``iterfield`` inputs. When those
inputs are known before the run, the graph holds one job per element (so backends run
them in parallel, and SGE submits them as one array) plus a gather job that assembles
the output lists. When they come from an upstream node, one job loops over the
elements itself. Either way each element has its own directory and cache entry,
computed the same way, so changing one element reruns only that one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .._errors import FlowmillError, ValidationError
from ..contract.states import NodeState
from ..store import results as store
from ..store.libraries import libraries_of
from .node import Node
from .task import Task

if TYPE_CHECKING:
    from ..execution.job import Job


class MapElementFailed(FlowmillError):
    """An element of a MapNode failed; its own crash file says why."""


def flatten(value: Any) -> tuple[list[Any], Any]:
    """Flatten nested lists; return the leaves and the shape needed to restore them."""
    if not isinstance(value, (list, tuple)):
        return [value], None
    leaves: list[Any] = []
    shape: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)):
            sub, sub_shape = flatten(item)
            leaves.extend(sub)
            shape.append(sub_shape)
        else:
            leaves.append(item)
            shape.append(None)
    return leaves, shape


def restore(leaves: Sequence[Any], shape: Any) -> Any:
    """Inverse of :func:`flatten` for a list of outputs in leaf order."""
    position = 0

    def build(node_shape: list[Any]) -> list[Any]:
        nonlocal position
        result = []
        for item in node_shape:
            if item is None:
                result.append(leaves[position])
                position += 1
            else:
                result.append(build(item))
        return result

    return build(shape)


def _as_list(node: str, name: str, value: Any) -> list[Any]:
    """An iterfield's value as the list of its elements, by nipype's rule: a list,
    tuple or range is iterated, a single value (a number, a path as a str) is one
    element. An unordered collection would give elements in no stable order, and a
    dict or an iterator is almost surely a mistake: those are refused."""
    if isinstance(value, (list, tuple, range)):
        return list(value)
    if isinstance(value, (set, frozenset, Mapping)) or hasattr(value, "__next__"):
        raise ValidationError(f"MapNode {node!r}: iterfield {name!r} must be a list (or one value), got "
                              f"{type(value).__name__} ({value!r:.80})")
    return [value]


def elements(node: str, iterfield: Sequence[str], values: Mapping[str, Any],
             nested: bool) -> tuple[list[dict[str, Any]], Any]:
    """Zip the iterfields into one input dict per element, checking lengths (nipype:
    iterfields are zipped and must be equally long)."""
    columns: dict[str, list[Any]] = {}
    shape = None
    for name in iterfield:
        value = _as_list(node, name, values[name])
        if nested:
            leaves, this_shape = flatten(value)
            shape = this_shape if shape is None else shape
        else:
            leaves = list(value)
        columns[name] = leaves
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValidationError(f"MapNode {node!r}: iterfields have unequal lengths {lengths}; nipype's rule "
                              "is that iterfields are zipped, so give them equal lengths (or use "
                              "iterables for a Cartesian product)")
    count = next(iter(lengths.values()))
    return [{name: columns[name][i] for name in iterfield} for i in range(count)], shape


def element_job(map_id: str, map_dir: Path, index: int, task: Task, inputs: dict[str, Any],
                refs: dict[str, Any], **options: Any) -> "Job":
    """Element ``index`` of a MapNode: job ``<map>#<index>`` in ``<map dir>/_map/<index>``,
    the same whether the graph holds it or the map's own job runs it."""
    from ..execution.job import Job

    return Job(f"{map_id}#{index}", map_dir / "_map" / str(index), task, inputs, refs, **options)


class GatherTask:
    """The outputs of a MapNode: each element's outputs, collected into lists (and
    re-nested when the map flattened nested inputs)."""

    __slots__ = ("inner", "output_names", "shape")

    def __init__(self, inner: Task, shape: Any) -> None:
        self.inner = inner
        self.output_names = tuple(inner.output_names)
        self.shape = shape

    def input_defaults(self) -> dict[str, Any]:
        return {name: [] for name in self.output_names}

    def digest(self) -> str:
        return "gather:" + self.inner.digest()

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        if self.shape is None:
            return {name: list(inputs[name]) for name in self.output_names}
        return {name: restore(inputs[name], self.shape) for name in self.output_names}

    def describe(self) -> str:
        return f"map gather of {self.inner.describe()}"


class MapTask:
    """A MapNode whose iterfields are only known when it runs: it builds one element
    job per item in its own directory and runs them here, one after another."""

    __slots__ = ("inner", "output_names", "iterfield", "nested", "keying", "node")

    def __init__(self, node: str, inner: Task, iterfield: Sequence[str], nested: bool,
                 keying: Mapping[str, Any]) -> None:
        self.node = node
        self.inner = inner
        self.output_names = tuple(inner.output_names)
        self.iterfield = tuple(iterfield)
        self.nested = nested
        self.keying = dict(keying)
        """The run options its element jobs' keys follow (``hash_method``, ``cache_libraries``)."""

    def input_defaults(self) -> Mapping[str, Any]:
        return self.inner.input_defaults()

    def digest(self) -> str:
        return f"map{self.iterfield}{self.nested}:" + self.inner.digest()

    def libraries(self) -> frozenset[str]:
        return libraries_of(self.inner)

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        items, shape = elements(self.node, self.iterfield, inputs, self.nested)
        fixed = {k: v for k, v in inputs.items() if k not in self.iterfield}
        outputs: dict[str, list[Any]] = {name: [] for name in self.output_names}
        for index, item in enumerate(items):
            child = element_job(self.node, workdir, index, self.inner, {**fixed, **item}, {}, **self.keying)
            if child.execute() == NodeState.FAILED:
                crash_file = store.find_crash(child.dir) or child.dir / store.CRASH
                crash = store.read_crash(crash_file)
                raise MapElementFailed(f"element {index} of MapNode {self.node!r} failed with "
                                       f"{crash.get('error_type')}: {crash.get('error')} "
                                       f"(crash file: {crash_file})")
            values = store.read_outputs(child.dir)
            for name in self.output_names:
                outputs[name].append(values[name])
        if shape is not None:
            return {name: restore(values, shape) for name, values in outputs.items()}
        return outputs

    def describe(self) -> str:
        return f"map over {list(self.iterfield)} of {self.inner.describe()}"


class UniqueJoinTask:
    """A JoinNode with ``unique=True``: duplicate values of the joined inputs are
    dropped (first occurrence kept) before the function sees them, as in nipype."""

    __slots__ = ("inner", "output_names", "fields")

    def __init__(self, inner: Task, fields: Sequence[str]) -> None:
        self.inner = inner
        self.output_names = tuple(inner.output_names)
        self.fields = tuple(fields)

    def input_defaults(self) -> Mapping[str, Any]:
        return self.inner.input_defaults()

    def digest(self) -> str:
        return "unique:" + self.inner.digest()

    def libraries(self) -> frozenset[str]:
        return libraries_of(self.inner)

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        values = dict(inputs)
        for name in self.fields:
            kept: list[Any] = []
            for item in values[name]:
                if item not in kept:
                    kept.append(item)
            values[name] = kept
        return self.inner.run(values, workdir)

    def describe(self) -> str:
        return f"unique join of {self.inner.describe()}"


class MapNode(Node):
    """Runs its function once per element of the ``iterfield`` inputs (zipped, equal
    lengths) and outputs lists; ``nested=True`` flattens nested input lists and gives
    the outputs the same nesting, as nipype's MapNode does."""

    def __init__(self, func: "Callable[..., Any] | Task", name: str | None = None, *,
                 iterfield: Sequence[str] | str, nested: bool = False, **kwargs: Any) -> None:
        super().__init__(func, name, **kwargs)
        self.iterfield = [iterfield] if isinstance(iterfield, str) else list(iterfield)
        if not self.iterfield:
            raise ValidationError(f"MapNode {self.name!r}: iterfield is empty; name the inputs to map over")
        for field in self.iterfield:
            if field not in self.task.input_defaults():
                raise ValidationError(f"MapNode {self.name!r}: iterfield {field!r} is not an input; "
                                      f"its inputs are {self.input_names}")
        self.nested = nested


class JoinNode(Node):
    """Collects the expansions of ``joinsource``'s iterables back into lists, in the
    iterables' order: each input in ``joinfield`` receives the list of values from
    every expansion (``unique=True`` drops repeated values), as nipype's JoinNode does.
    ``joinfield`` defaults to every input connected from the expanded branch."""

    def __init__(self, func: "Callable[..., Any] | Task", name: str | None = None, *,
                 joinsource: "Node | str", joinfield: Sequence[str] | str | None = None,
                 unique: bool = False, **kwargs: Any) -> None:
        super().__init__(func, name, **kwargs)
        self.joinsource = joinsource
        self.joinfield = [joinfield] if isinstance(joinfield, str) else list(joinfield) if joinfield else None
        for field in self.joinfield or ():
            self._check_input(field)
        self.unique = unique
