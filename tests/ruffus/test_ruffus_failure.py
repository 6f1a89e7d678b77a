"""Failures: dependants are skipped, independent branches and groups finish, the run
ends with flowmill's WorkflowError and crash files, and observers hear it all from the
driver process, in both modes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from flowmill.testing import EventLog

from ._workflows import escape, grouped_failure, inc, leave, linger, vanish

MODES = ["multiprocess", "multithread"]


class PidLog(EventLog):
    """Also records the process every event was delivered in."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: set[int] = set()

    def _add(self, event: str, job: Any) -> None:
        super()._add(event, job)
        self.pids.add(os.getpid())


@pytest.fixture
def observed() -> PidLog:
    log = PidLog()
    flowmill.register(log)
    yield log
    flowmill.unregister(log)


@pytest.mark.parametrize("mode", MODES)
def test_failure_skips_dependants_and_finishes_the_rest(tmp_path: Path, mode: str, observed: PidLog) -> None:
    with pytest.raises(flowmill.WorkflowError) as info:
        grouped_failure(tmp_path).run(plugin="ruffus", n_procs=2, mode=mode)
    error = info.value
    assert sorted(f.name for f in error.failed) == ["bad", "leaf2"]
    result = error.result
    assert sorted(result.skipped) == ["after", "last", "tail2"]
    assert sorted(result.executed) == ["first", "leaf0", "leaf1", "leaf3", "mid", "root",
                                       "tail0", "tail1", "tail3"]
    assert [result[f"tail{i}"].out for i in (0, 1, 3)] == [3, 3, 3]
    crash = flowmill_crash(tmp_path / "grouped" / "bad")
    assert crash["error_type"] == "RuntimeError"
    assert "ruffus test failure on purpose (x=12)" in crash["traceback"]
    assert not (tmp_path / "grouped" / "after" / "result.pkl").exists()
    assert observed.of("failed") == {"bad", "leaf2"}
    assert observed.of("skipped") == {"after", "last", "tail2"}
    assert observed.of("started") == set(result.executed) | {"bad", "leaf2"}
    assert observed.of("finished") == set(result.executed)
    assert observed.pids == {os.getpid()}


def flowmill_crash(node_dir: Path) -> dict[str, Any]:
    return json.loads((node_dir / "crash.json").read_text())


@pytest.mark.parametrize("mode", MODES)
def test_node_calling_sys_exit_fails_and_is_not_retried(tmp_path: Path, mode: str) -> None:
    """sys.exit in a node's code is that node's failure (as on every backend), not the
    loss of the process running it."""
    tally = tmp_path / "attempts.txt"
    wf = Workflow("leaving", base_dir=tmp_path)
    node = Node(leave, name="leave")
    node.inputs.x = 1
    node.inputs.tally = str(tally)
    wf.add_nodes([node])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="ruffus", n_procs=2, mode=mode, retries=1)
    assert len(tally.read_text().splitlines()) == 1
    crash = flowmill_crash(tmp_path / "leaving" / "leave")
    assert (crash["error_type"], crash["error"]) == ("SystemExit", "the node called sys.exit(3)")
    assert info.value.result.failed == ["leave"]


def test_rerun_after_fix_runs_only_what_failed(tmp_path: Path) -> None:
    with pytest.raises(flowmill.WorkflowError):
        grouped_failure(tmp_path).run(plugin="ruffus", n_procs=2)
    fixed = grouped_failure(tmp_path)
    fixed.get_node("bad").task.func = inc  # type: ignore[union-attr]
    fixed.get_node("leaf2").task.func = inc  # type: ignore[union-attr]
    result = fixed.run(plugin="ruffus", n_procs=2)
    assert sorted(result.executed) == ["after", "bad", "last", "leaf2", "tail2"]
    assert result["last"].out == 15


@pytest.mark.timeout(60)
def test_worker_killed_mid_job_is_lost_not_a_hang(tmp_path: Path) -> None:
    """Ruffus' process pool would wait forever for a job whose worker died; the job
    runs in a sandbox child of the worker, so the run reports it lost and goes on."""
    tally = tmp_path / "attempts.txt"
    wf = grouped_failure(tmp_path)
    killed = Node(vanish, name="killed")
    killed.inputs.tally = str(tally)
    after = Node(inc, name="after_killed")
    wf.connect([(wf.get_node("root"), killed, [("out", "x")]), (killed, after, [("out", "x")])])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="ruffus", n_procs=2, mode="multiprocess", retries=1)
    result = info.value.result
    assert sorted(result.failed) == ["bad", "killed", "leaf2"]
    assert "after_killed" in result.skipped and "tail0" in result.executed
    attempts = tally.read_text().split()
    assert len(attempts) == 2 and attempts[0] != attempts[1]
    crash = flowmill_crash(tmp_path / "grouped" / "killed")
    assert crash["error_type"] == "JobLost"
    assert "killed by signal SIGKILL" in crash["error"]


def test_ruffus_stopping_the_pipeline_ends_as_workflow_error(tmp_path: Path) -> None:
    """A BaseException from a node reaches Ruffus (in threads), which stops the whole
    pipeline; every job not yet reported ends lost, with Ruffus' account in its crash
    file, and wf.run raises WorkflowError, never Ruffus' RethrownJobError."""
    wf = Workflow("escaping", base_dir=tmp_path)
    first = Node(escape, name="first")
    first.inputs.x = 1
    wf.connect(first, "out", Node(inc, name="second"), "x")
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="ruffus", n_procs=2, mode="multithread")
    result = info.value.result
    assert result.failed == ["first"] and result.skipped == ["second"]
    crash = flowmill_crash(tmp_path / "escaping" / "first")
    assert crash["error_type"] == "JobLost"
    assert crash["error"].startswith("lost 1 time(s), retries=0: Ruffus stopped the pipeline: ")
    assert "Escape" in crash["error"] and "escaping with x=1" in crash["error"]
    assert "escaping with x=1" in crash["details"]["ruffus_error"]


@pytest.mark.parametrize("limits", [{"n_procs": 2}, {"n_procs": 2, "max_jobs": 1}, {"n_procs": 1}],
                         ids=["pool", "max_jobs=1", "n_procs=1"])
def test_timeout_stops_the_job_in_its_sandbox(tmp_path: Path, limits: dict[str, int]) -> None:
    """Also with one job at a time, when Ruffus runs jobs from the driver's thread."""
    wf = Workflow("slow", base_dir=tmp_path)
    slow = Node(linger, name="slow")
    slow.inputs.x = 1
    slow.inputs.seconds = 60
    slow.inputs.tally = str(tmp_path / "attempts.txt")
    quick = Node(linger, name="quick")
    quick.inputs.x = 2
    quick.inputs.seconds = 0
    wf.connect(slow, "out", Node(inc, name="after_slow"), "x")
    wf.add_nodes([quick])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="ruffus", mode="multiprocess", timeout=1.0, retries=2, **limits)
    result = info.value.result
    assert result.failed == ["slow"] and result.skipped == ["after_slow"] and result["quick"].out == 2
    crash = flowmill_crash(tmp_path / "slow" / "slow")
    assert crash["error_type"] == "Timeout"
    assert crash["error"] == "timed out after 1.0s (run option timeout)"
    assert len((tmp_path / "attempts.txt").read_text().split()) == 1, "a timed-out job is not retried"
