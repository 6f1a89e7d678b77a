"""Graph mode: the whole graph queued with -hold_jid; a failing node's dependants never
run (not even on an earlier run's results); ``wait=False`` leaves the jobs queued and
a later run collects their results without submitting them again."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from tests.fixtures.sge import held, recorded_jobs, wait_until_gone

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


def step(x: int, log: str, fail: bool = False, pause: float = 0.0) -> int:
    """Adds one, after noting in ``log`` that it ran; fails on request."""
    with open(log, "a") as handle:
        handle.write(f"{x}\n")
    time.sleep(pause)
    if fail:
        raise RuntimeError("middle node fails on purpose")
    return x + 1


def chain(tmp_path: Path, fail: bool = False, pause: float = 0.0) -> Workflow:
    """a -> mid -> c -> d, and an independent e; each logs its runs in <name>.log."""
    wf = Workflow("graph", base_dir=tmp_path)
    nodes = {}
    for name in ("a", "mid", "c", "d", "e"):
        nodes[name] = node = Node(step, name=name)
        node.inputs.log = str(tmp_path / f"{name}.log")
        node.inputs.pause = pause
    nodes["a"].inputs.x = 1
    nodes["e"].inputs.x = 10
    nodes["mid"].inputs.fail = fail
    wf.connect([(nodes["a"], nodes["mid"], [("out", "x")]), (nodes["mid"], nodes["c"], [("out", "x")]),
                (nodes["c"], nodes["d"], [("out", "x")])])
    wf.add_nodes([nodes["e"]])
    return wf


def runs(tmp_path: Path, name: str) -> int:
    log = tmp_path / f"{name}.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def result_token(node_dir: Path) -> str:
    with open(node_dir / "result.pkl", "rb") as handle:
        return pickle.load(handle)["token"]


def test_failing_middle_node_holds_back_its_dependants(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    first = chain(tmp_path).run(plugin="sge", graph=True, **sge_run_options)
    assert first["d"].out == 5
    old_token = result_token(tmp_path / "graph" / "c")
    with pytest.raises(flowmill.WorkflowError) as info:
        chain(tmp_path, fail=True).run(plugin="sge", graph=True, **sge_run_options)
    res = info.value.result
    assert res.failed == ["mid"]
    assert sorted(res.skipped) == ["c", "d"]
    assert sorted(res.cached) == ["a", "e"]
    assert "middle node fails on purpose" in str(info.value)
    # c and d were queued, held on mid, and deleted: they never ran on mid's old result.
    assert runs(tmp_path, "c") == 1 and runs(tmp_path, "d") == 1
    assert result_token(tmp_path / "graph" / "c") == old_token


@pytest.mark.parametrize("later", ["graph", "jobs"])
def test_wait_false_then_a_later_run_collects(tmp_path: Path, sge_run_options: dict[str, Any], later: str) -> None:
    started = time.monotonic()
    res = chain(tmp_path, pause=1.0).run(plugin="sge", graph=True, wait=False, **sge_run_options)
    assert time.monotonic() - started < 10
    assert sorted(res.pending) == ["a", "c", "d", "e", "mid"]
    assert len(held(recorded_jobs(tmp_path / "graph"))) == 5
    collected = chain(tmp_path, pause=1.0).run(plugin="sge", graph=later == "graph", **sge_run_options)
    assert collected["d"].out == 5 and collected["e"].out == 11
    assert collected.failed == [] and collected.executed == []
    assert {name: runs(tmp_path, name) for name in "a mid c d e".split()} == dict.fromkeys("a mid c d e".split(), 1)


def test_without_the_driver_a_failed_node_still_stops_its_dependants(tmp_path: Path,
                                                                     sge_run_options: dict[str, Any]) -> None:
    res = chain(tmp_path, fail=True).run(plugin="sge", graph=True, wait=False, **sge_run_options)
    assert len(res.pending) == 5
    assert wait_until_gone(recorded_jobs(tmp_path / "graph"), 60) == []
    assert runs(tmp_path, "mid") == 1
    assert runs(tmp_path, "c") == 0 and runs(tmp_path, "d") == 0
    assert not (tmp_path / "graph" / "c" / "crash.json").exists()
    with pytest.raises(flowmill.WorkflowError) as info:
        chain(tmp_path, fail=True).run(plugin="sge", graph=True, **sge_run_options)
    assert info.value.result.failed == ["mid"]
    assert sorted(info.value.result.skipped) == ["c", "d"]
