"""The workflows of the policy cases: nodes that measure what the scheduling policy
did to them (attempts, overlaps, starts, the processes they left) in files under a
directory the test names, so the test reads the nodes' own account whatever process
or host ran them. Every graph is tiny: a scheduler with ~1 s per hop stays fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from ..store import results as store
from ..workflow.mapping import MapNode
from ..workflow.node import Node
from ..workflow.workflow import Workflow
from ._workflows import explode, inc, scale


def perish(x: int, marks: str, times: int) -> int:
    """Count this attempt with a file in ``marks``; kill the process running the node
    (SIGKILL, so nothing can report for it) on the first ``times`` attempts."""
    attempt = len(os.listdir(marks))
    Path(marks, f"{attempt}-{os.getpid()}").touch()
    if attempt < times:
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 1


RELEASE_AFTER = 2.0
"""How long a holder outlives the Ctrl-C on a backend that cannot stop its jobs: the
driver has taken the interrupt by then, so a queued job that starts after it was let
start by the driver, not by holders that happened to end first on a slow machine."""


def hold(x: int, pids: str, seconds: float, released: str | None = None) -> int:
    """Run a child process for ``seconds``, its pid recorded as a file in ``pids``; on
    an interrupt the node stops its child itself (as ``subprocess.run`` does), so a
    child left running means the job was neither interrupted nor killed with its tree.
    The node also ends ``RELEASE_AFTER`` seconds after the file ``released`` appears."""
    child = subprocess.Popen(["sleep", str(seconds)])
    try:
        Path(pids, str(child.pid)).touch()
        while child.poll() is None and not _released(released):
            time.sleep(0.05)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return x


def _released(path: str | None) -> bool:
    try:
        return path is not None and time.time() - os.path.getmtime(path) >= RELEASE_AFTER
    except FileNotFoundError:
        return False


def exclusive(x: int, shared: str, seconds: float) -> int:
    """Hold the lock file of ``shared`` for ``seconds``; a node that finds it taken
    records the overlap. Start and end times go to a log for the failure message."""
    lock = Path(shared, "running")
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        Path(shared, f"overlap-{x}").touch()
        descriptor = None
    start = time.time()
    time.sleep(seconds)
    with open(Path(shared, "log"), "a") as log:
        log.write(f"{x} {start:.3f} {time.time():.3f}\n")
    if descriptor is not None:
        os.close(descriptor)
        lock.unlink()
    return x


def await_file(x: int, path: str, settle: float, within: float = 60.0) -> int:
    """Return once ``path`` exists (or ``within`` seconds passed), ``settle`` seconds
    later: the node's dependants become ready only after another node's crash is known."""
    deadline = time.monotonic() + within
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle)
    return x


def mark(x: int, started: str, name: str) -> int:
    """Record that this node started."""
    Path(started, name).touch()
    return x


def fragile(x: int) -> int:
    if x == 2:
        raise ValueError(f"conformance element failure on purpose (x={x})")
    return x + 1


def _node(func: Callable[..., Any], node_name: str, **inputs: Any) -> Node:
    node = Node(func, name=node_name)
    for key, value in inputs.items():
        setattr(node.inputs, key, value)
    return node


def perishing(base_dir: Path, marks: Path, times: int) -> Workflow:
    """One node that kills its process on its first ``times`` attempts, then returns 8."""
    marks.mkdir(parents=True, exist_ok=True)
    wf = Workflow("perishing", base_dir=base_dir)
    wf.add_nodes([_node(perish, "perish", x=7, marks=str(marks), times=times)])
    return wf


def slow(base_dir: Path, pids: Path, seconds: float) -> Workflow:
    """slow (holds a child for ``seconds``) -> after_slow, and an independent quick."""
    pids.mkdir(parents=True, exist_ok=True)
    wf = Workflow("slow", base_dir=base_dir)
    wf.connect(_node(hold, "slow", x=1, pids=str(pids), seconds=seconds), "out", Node(inc, name="after_slow"), "x")
    wf.add_nodes([_node(inc, "quick", x=2)])
    return wf


def holding(base_dir: Path, pids: Path, after: Path, width: int, seconds: float,
            released: Path | None = None) -> Workflow:
    """``width`` independent nodes, each holding a child process for ``seconds`` (or
    until ``RELEASE_AFTER`` seconds after ``released`` appears), and ``after``, which
    waits for hold0 and records its own child in ``after``: a job still waiting when
    the run is interrupted."""
    pids.mkdir(parents=True, exist_ok=True)
    after.mkdir(parents=True, exist_ok=True)
    wf = Workflow("holding", base_dir=base_dir)
    until = None if released is None else str(released)
    holders = [_node(hold, f"hold{i}", x=i, pids=str(pids), seconds=seconds, released=until) for i in range(width)]
    wf.add_nodes(holders)
    wf.connect(holders[0], "out", _node(hold, "after", pids=str(after), seconds=seconds, released=until), "x")
    return wf


def exclusive_fan(base_dir: Path, shared: Path, width: int, seconds: float) -> Workflow:
    """root -> ``width`` nodes that each hold one lock file for ``seconds``."""
    shared.mkdir(parents=True, exist_ok=True)
    wf = Workflow("exclusive", base_dir=base_dir)
    root = _node(inc, "root", x=0)
    for i in range(width):
        wf.connect(root, "out", _node(exclusive, f"excl{i}", shared=str(shared), seconds=seconds), "x")
    return wf


def stopping(base_dir: Path, started: Path, width: int, settle: float) -> Workflow:
    """bad fails at once; gate, independent of it, returns ``settle`` seconds after
    bad's crash file appeared; late0..late{width-1} wait for gate and record their start.
    Without the stop at the first crash the late nodes would certainly run."""
    started.mkdir(parents=True, exist_ok=True)
    wf = Workflow("stopping", base_dir=base_dir)
    gate = _node(await_file, "gate", x=0, path=str(base_dir / "stopping" / "bad" / store.CRASH), settle=settle)
    wf.add_nodes([_node(explode, "bad", x=1), gate])
    for i in range(width):
        wf.connect(gate, "out", _node(mark, f"late{i}", started=str(started), name=f"late{i}"), "x")
    return wf


def chained_failure(base_dir: Path) -> Workflow:
    """steps (MapNode over 1, 2, 3; the element x=2 fails) feeds chained element by
    element: chained#1 must be skipped, chained#0 and chained#2 run."""
    wf = Workflow("chainfail", base_dir=base_dir)
    steps = MapNode(fragile, name="steps", iterfield=["x"])
    steps.inputs.x = [1, 2, 3]
    chained = MapNode(scale, name="chained", iterfield=["x"])
    wf.connect(steps, "out", chained, "x")
    return wf
