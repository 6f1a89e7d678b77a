"""The workflows of the conformance battery.

Their functions live at module level in an installed package, so every backend can
ship them to another process by reference, the way users' library functions travel.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..workflow.mapping import JoinNode, MapNode
from ..workflow.node import Node
from ..workflow.workflow import Workflow


def inc(x: int, step: int = 1) -> int:
    return x + step


def add(x: int, y: int) -> int:
    return x + y


def scale(x: int, factor: int = 2) -> int:
    return x * factor


def explode(x: int) -> int:
    raise ValueError(f"conformance failure on purpose (x={x})")


def blob(megabytes: int, seed: int) -> bytes:
    """A deterministic blob, big enough that it must not travel through a scheduler."""
    chunk = hashlib.sha256(str(seed).encode()).digest() * (1024 * 1024 // 32)
    return chunk * megabytes


def measure(data: bytes) -> tuple[int, str]:
    return len(data), hashlib.sha256(data).hexdigest()


def total(values: list[list[int]]) -> int:
    return sum(sum(items) for items in values)


def count_to(n: int) -> list[int]:
    return list(range(1, n + 1))


def diamond(base_dir: Path) -> Workflow:
    """top -> (left, right) -> bottom: bottom = (x+1)*2 + (x+1)+1."""
    wf = Workflow("diamond", base_dir=base_dir)
    top = Node(inc, name="top")
    top.inputs.x = 10
    left = Node(scale, name="left")
    right = Node(inc, name="right")
    bottom = Node(add, name="bottom")
    wf.connect([(top, left, [("out", "x")]), (top, right, [("out", "x")]),
                (left, bottom, [("out", "x")]), (right, bottom, [("out", "y")])])
    return wf


def fan_out(base_dir: Path, width: int) -> Workflow:
    wf = Workflow("fanout", base_dir=base_dir)
    root = Node(inc, name="root")
    root.inputs.x = 0
    wf.add_nodes([root])
    for i in range(width):
        leaf = Node(scale, name=f"leaf{i}")
        leaf.inputs.factor = i
        wf.connect(root, "out", leaf, "x")
    return wf


def chain(base_dir: Path, length: int) -> Workflow:
    wf = Workflow("chain", base_dir=base_dir)
    previous = Node(inc, name="n0")
    previous.inputs.x = 0
    wf.add_nodes([previous])
    for i in range(1, length):
        node = Node(inc, name=f"n{i}")
        wf.connect(previous, "out", node, "x")
        previous = node
    return wf


def failing(base_dir: Path) -> Workflow:
    """start -> bad -> after_bad, and an independent branch ok1 -> ok2 that must finish."""
    wf = Workflow("failing", base_dir=base_dir)
    start = Node(inc, name="start")
    start.inputs.x = 1
    bad = Node(explode, name="bad")
    after_bad = Node(inc, name="after_bad")
    ok1 = Node(inc, name="ok1")
    ok1.inputs.x = 100
    ok2 = Node(scale, name="ok2")
    wf.connect([(start, bad, [("out", "x")]), (bad, after_bad, [("out", "x")]), (ok1, ok2, [("out", "x")])])
    return wf


def pipeline(base_dir: Path, step: int = 1) -> Workflow:
    """a -> b -> c, and an unrelated d: changing b's step reruns b and c only."""
    wf = Workflow("pipeline", base_dir=base_dir)
    a = Node(inc, name="a")
    a.inputs.x = 1
    b = Node(inc, name="b")
    b.inputs.step = step
    c = Node(scale, name="c")
    d = Node(inc, name="d")
    d.inputs.x = 7
    wf.connect([(a, b, [("out", "x")]), (b, c, [("out", "x")])])
    wf.add_nodes([d])
    return wf


def large_outputs(base_dir: Path, megabytes: int = 5) -> Workflow:
    wf = Workflow("large", base_dir=base_dir)
    make = Node(blob, name="make")
    make.inputs.megabytes = megabytes
    make.inputs.seed = 3
    check = Node(measure, name="check", outputs=["size", "sha"])
    wf.connect(make, "out", check, "data")
    return wf


def nested(base_dir: Path) -> Workflow:
    """outer: pre -> inner(first -> second) -> post, connected by dotted names."""
    inner = Workflow("inner")
    first = Node(inc, name="first")
    second = Node(scale, name="second")
    inner.connect(first, "out", second, "x")
    outer = Workflow("nested", base_dir=base_dir)
    pre = Node(inc, name="pre")
    pre.inputs.x = 1
    post = Node(inc, name="post")
    outer.connect(pre, "out", inner, "first.x")
    outer.connect(inner, "second.out", post, "x")
    return outer


def sweep(base_dir: Path) -> Workflow:
    """src (iterables x=1,2,3) -> map over factors [1, 10] -> join over src: 99; a map
    whose list comes from an upstream node: [2, 4, 6]; and a map fed element by element
    by another map: [22, 42, 62]."""
    wf = Workflow("sweep", base_dir=base_dir)
    src = Node(inc, name="src")
    src.iterables = ("x", [1, 2, 3])
    mapped = MapNode(scale, name="mapped", iterfield=["factor"])
    mapped.inputs.factor = [1, 10]
    join = JoinNode(total, name="join", joinsource="src", joinfield=["values"])
    wf.connect([(src, mapped, [("out", "x")]), (mapped, join, [("out", "values")])])
    listing = Node(count_to, name="listing")
    listing.inputs.n = 3
    doubled = MapNode(scale, name="doubled", iterfield=["x"])
    wf.connect(listing, "out", doubled, "x")
    steps = MapNode(inc, name="steps", iterfield=["x"])
    steps.inputs.x = [10, 20, 30]
    chained = MapNode(scale, name="chained", iterfield=["x"])
    wf.connect(steps, "out", chained, "x")
    return wf


def parameter_sweep(base_dir: Path, axes: int = 3, values: int = 30) -> Workflow:
    """A chain of ``axes`` nodes, each with ``values`` iterables: the last node expands
    into ``values ** axes`` instances (the expansion benchmark's workload)."""
    wf = Workflow("sweep", base_dir=base_dir)
    previous = None
    for index in range(axes):
        node = Node(inc, name=f"p{index}")
        node.iterables = ("step", list(range(values)))
        if previous is None:
            node.inputs.x = 0
        else:
            wf.connect(previous, "out", node, "x")
        previous = node
    return wf
