"""From the user's workflow to the execution graph: validate the connections, order the
nodes, and let the expander turn every node instance into a job."""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .._errors import ValidationError
from ..execution.graph import ExecutionGraph
from ..store.code import forget_code
from ..store.hashing import HashMethod
from .expand import Expander

if TYPE_CHECKING:
    from .workflow import Edge, Workflow


def build_graph(workflow: Workflow, workflow_dir: Path, hash_method: HashMethod,
                cache_libraries: bool = False) -> ExecutionGraph:
    """Turn the user's (possibly nested) workflow into jobs, validating connections,
    iterables, joins, maps and mandatory inputs on the way; every problem names the
    node and the fix. Code digests are taken afresh for each build (edited helpers
    count from the next run on). ``hash_method`` and ``cache_libraries`` are the run
    options every job's key follows."""
    forget_code()
    nodes, edges = workflow.flatten()
    if not nodes:
        raise ValidationError(f"workflow {workflow.name!r} has no nodes; add some with add_nodes or connect")
    incoming: dict[str, dict[str, Edge]] = {path: {} for path in nodes}
    for edge in edges:
        into = incoming[edge.dst]
        if edge.dst_field in into:
            first = into[edge.dst_field]
            raise ValidationError(f"input {edge.dst_field!r} of node {edge.dst!r} is connected twice "
                                  f"(from {first.src}.{first.src_field} and {edge.src}.{edge.src_field}); "
                                  "an input takes one connection")
        into[edge.dst_field] = edge
    order = _node_order({path: {edge.src for edge in into.values()} for path, into in incoming.items()})
    dirs = {path: workflow_dir.joinpath(*path.split(".")) for path in nodes}
    expander = Expander(nodes, incoming, order, dirs, hash_method, cache_libraries)
    expander.build()
    return ExecutionGraph(expander.jobs, expander.parents,
                          {path: (expansion, tuple(nodes[path].task.output_names))
                           for path, expansion in expander.expansions.items()})


def _node_order(parents: Mapping[str, set[str]]) -> list[str]:
    try:
        return list(graphlib.TopologicalSorter(parents).static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ValidationError(f"the workflow has a cycle: {cycle}. Remove one of these connections") from None
