"""Workflows the ruffus tests share; node functions at module level so that worker
processes find them by reference."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from flowmill import Node, Workflow


def inc(x: int) -> int:
    return x + 1


def explode(x: int) -> int:
    raise RuntimeError(f"ruffus test failure on purpose (x={x})")


def leave(x: int, tally: str) -> int:
    """Count each attempt in a file, then quit the process's code the wrong way."""
    with open(tally, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    sys.exit(3)


def grouped_failure(base_dir: Path) -> Workflow:
    """root -> leaf0..leaf3, each leaf -> tail_i; leaf2 fails. The leaves are one Ruffus
    task, the tails another; in between, a fused chain root2 -> mid -> bad -> after."""
    wf = Workflow("grouped", base_dir=base_dir)
    root = Node(inc, name="root")
    root.inputs.x = 0
    for i in range(4):
        leaf = Node(explode if i == 2 else inc, name=f"leaf{i}")
        tail = Node(inc, name=f"tail{i}")
        wf.connect([(root, leaf, [("out", "x")]), (leaf, tail, [("out", "x")])])
    first = Node(inc, name="first")
    first.inputs.x = 10
    mid = Node(inc, name="mid")
    bad = Node(explode, name="bad")
    after = Node(inc, name="after")
    last = Node(inc, name="last")
    wf.connect([(first, mid, [("out", "x")]), (mid, bad, [("out", "x")]), (bad, after, [("out", "x")]),
                (after, last, [("out", "x")])])
    return wf


def vanish(x: int, tally: str) -> int:
    """Count each attempt in a file, then kill the process running the node."""
    with open(tally, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def where(x: int) -> tuple[int, int]:
    """The process and thread that ran the node."""
    return os.getpid(), threading.get_ident()


def wide(base_dir: Path, width: int) -> Workflow:
    wf = Workflow("wide", base_dir=base_dir)
    for i in range(width):
        node = Node(where, name=f"w{i}", outputs=["pid", "thread"])
        node.inputs.x = i
        wf.add_nodes([node])
    return wf


class Escape(BaseException):
    """Not an Exception: flowmill's job does not catch it, so it reaches Ruffus."""


def escape(x: int) -> int:
    raise Escape(f"escaping with x={x}")


def linger(x: int, seconds: float, tally: str = "") -> int:
    if tally:
        with open(tally, "a") as handle:
            handle.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return x
