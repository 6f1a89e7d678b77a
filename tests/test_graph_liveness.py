"""A graph-level executor whose workers died ends the run in bounded time, naming
them (issue 13): the driver asks an idle executor's ``alive()`` through the liveness
clock the job-level driver uses. The executor is ``tests/misbehaving.ProcessGraph``,
which runs the jobs in a real worker process that the test SIGKILLs."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

import flowmill
from flowmill import Node, Workflow

from . import misbehaving as mb


def report_and_wait(x: int, marks: str) -> int:
    """Record the process running the node, then take longer than the test allows."""
    Path(marks, str(os.getpid())).touch()
    time.sleep(120)
    return x


def inc(x: int) -> int:
    return x + 1


def kill_the_worker(marks: Path, killed: list[int]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for mark in marks.iterdir():
            killed.append(int(mark.name))
            os.kill(killed[0], signal.SIGKILL)
            return
        time.sleep(0.05)


@pytest.fixture
def process_graph():
    plugin = mb.MisbehavingPlugin(mb.ProcessGraph)
    flowmill.register(plugin)
    yield "misbehaving"
    flowmill.unregister(plugin)


@pytest.mark.timeout(150)  # the old driver waited for the dead worker forever
def test_a_graph_executor_whose_worker_died_ends_the_run_naming_it(tmp_path: Path, process_graph: str) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    wf = Workflow("dying", base_dir=tmp_path)
    first = Node(inc, name="first")
    first.inputs.x = 1
    slow = Node(report_and_wait, name="slow")
    slow.inputs.marks = str(marks)
    wf.connect([(first, slow, [("out", "x")]), (slow, Node(inc, name="after"), [("out", "x")])])
    killed: list[int] = []
    killer = threading.Thread(target=kill_the_worker, args=(marks, killed), daemon=True)
    killer.start()
    began = time.monotonic()
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin=process_graph)
    took = time.monotonic() - began
    killer.join()
    # 5 s without news before the driver asks alive(), 2 s for run_graph to return;
    # the rest is margin for a loaded 2-core machine (the node itself sleeps 120 s).
    assert took < 40, f"the run took {took:.1f} s"
    result = info.value.result
    assert result.executed == ["first"]
    assert result.failed == ["slow"] and result.skipped == ["after"]
    crash = json.loads((tmp_path / "dying" / "slow" / "crash.json").read_text())
    assert crash["error_type"] == "JobLost"
    assert crash["error"] == f"lost: worker process {killed[0]} exited with -9"
