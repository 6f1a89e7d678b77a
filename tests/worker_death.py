"""A pool worker SIGKILLed while it runs a node, on the local pool backends (the tests
are ``tests/test_worker_death.py``). Node functions live here, at module level, so
that worker processes find them by reference."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import psutil

from flowmill import Node, Workflow

WORKER: dict[str, Callable[[int, int], int]] = {
    "multiproc": lambda pid, ppid: pid,
    "ruffus": lambda pid, ppid: ppid,
}
"""Which process is the pool worker, given the pid and parent pid of the process
running the node: multiproc runs a node in its worker; a Ruffus pool worker runs it
in its sandbox child (whose own death the worker survives and reports)."""


def inc(x: int) -> int:
    return x + 1


def hold_once(x: int, marks: str) -> int:
    """First attempt: start ``sleep 30``, record its pid and this process's pid and
    parent pid, and wait for it (the test kills the worker meanwhile). A retry finds
    the record and returns at once."""
    if any(Path(marks).glob("attempt-*")):
        return x + 100
    child = subprocess.Popen(["sleep", "30"])
    Path(marks, f"child-{child.pid}").touch()
    Path(marks, f"attempt-{os.getpid()}-{os.getppid()}").touch()
    child.wait()
    return x + 100


def held_workflow(base_dir: Path, marks: Path) -> Workflow:
    """a0 -> held -> tail, and independent b0..b3: every node's answer is known."""
    wf = Workflow("held", base_dir=base_dir)
    a0 = Node(inc, name="a0")
    a0.inputs.x = 0
    held = Node(hold_once, name="held")
    held.inputs.marks = str(marks)
    tail = Node(inc, name="tail")
    wf.connect([(a0, held, [("out", "x")]), (held, tail, [("out", "x")])])
    for i in range(4):
        node = Node(inc, name=f"b{i}")
        node.inputs.x = 10 * i
        wf.add_nodes([node])
    return wf


EXPECTED = {"a0": 1, "held": 101, "tail": 102, **{f"b{i}": 10 * i + 1 for i in range(4)}}


class WorkerKiller:
    """A thread that SIGKILLs the pool worker once the held node recorded it; the
    worker's pid and the pid of the ``sleep`` its node started."""

    def __init__(self, marks: Path, plugin: str, within: float = 120.0) -> None:
        marks.mkdir(parents=True, exist_ok=True)
        self.marks = marks
        self.plugin = plugin
        self.within = within
        self.worker: int | None = None
        self.child: int | None = None
        self._thread = threading.Thread(target=self._kill, daemon=True)
        self._thread.start()

    def _kill(self) -> None:
        deadline = time.monotonic() + self.within
        while time.monotonic() < deadline:
            attempts = list(self.marks.glob("attempt-*"))
            if attempts:
                pid, ppid = map(int, attempts[0].name.split("-")[1:])
                self.child = int(next(self.marks.glob("child-*")).name.split("-")[1])
                self.worker = WORKER[self.plugin](pid, ppid)
                os.kill(self.worker, signal.SIGKILL)
                return
            time.sleep(0.05)

    def join(self) -> None:
        self._thread.join()
        assert self.worker is not None, "the held node never started"


def descendants() -> set[int]:
    """Pids of this process's living descendants (zombies aside)."""
    found = set()
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                found.add(process.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def still_running(pids: set[int], within: float) -> set[int]:
    """Those of ``pids`` still alive (not zombies) after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.add(pid)
            except psutil.NoSuchProcess:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
