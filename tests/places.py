"""What the tests of ``where`` share: a node that says which process ran it, and an
observer that keeps where each node was reported started."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import flowmill
from flowmill import Node, Workflow


def whoami(pause: float) -> dict[str, Any]:
    """The process that runs the node, seen from inside it; after ``pause`` seconds,
    so that a backend that hears starts late (SGE) still hears this one."""
    time.sleep(pause)
    return {"host": socket.gethostname(), "pid": os.getpid(), "slurm_node": os.environ.get("SLURMD_NODENAME"),
            "job": os.environ.get("SLURM_JOB_ID") or os.environ.get("JOB_ID")}


def places_workflow(base_dir: Any, pause: float = 0.0, nodes: int = 2) -> Workflow:
    """``nodes`` independent whoami nodes, w0, w1, ..."""
    made = [Node(whoami, name=f"w{i}") for i in range(nodes)]
    for node in made:
        node.inputs.pause = pause
    wf = Workflow("places", base_dir=base_dir)
    wf.add_nodes(made)
    return wf


class Places:
    """An observer: where each node was reported started (registered for a block)."""

    def __init__(self) -> None:
        self.where: dict[str, str | None] = {}
        self.heard: dict[str, float] = {}
        """When each start was heard, in seconds before the node's end was."""
        self._lock = threading.Lock()

    @flowmill.hookimpl
    def flowmill_node_started(self, job: Any, where: str | None) -> None:
        with self._lock:
            self.where[job.id] = where
            self.heard[job.id] = time.monotonic()

    @flowmill.hookimpl
    def flowmill_node_finished(self, job: Any) -> None:
        with self._lock:
            self.heard[job.id] = time.monotonic() - self.heard[job.id]

    def __enter__(self) -> "Places":
        flowmill.register(self)
        return self

    def __exit__(self, *exc: object) -> None:
        flowmill.unregister(self)


def process(seen: dict[str, Any]) -> str:
    """How flowmill names the process a whoami node reported from inside."""
    return f"{seen['host']} pid {seen['pid']}"
