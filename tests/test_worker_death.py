"""A pool worker of a local backend SIGKILLed while it runs a node (issue 13): the node
is lost and retried (or fails as JobLost naming the worker's pid), the other nodes
finish, and nothing the worker or its node started is left running. One test for
the backends that run nodes in a pool of worker processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import flowmill

from .worker_death import EXPECTED, WorkerKiller, descendants, held_workflow, still_running

BACKENDS = ["multiproc", "ruffus"]

GONE_WITHIN = 10.0
"""Seconds the processes get to vanish after the run: the kills are sent before
``wf.run`` returns; the margin is for a loaded 2-core machine."""

pytestmark = pytest.mark.timeout(120)  # the old Ruffus backend waited for the dead worker forever


@pytest.mark.parametrize("plugin", BACKENDS)
def test_a_killed_worker_loses_its_node_which_is_retried(tmp_path: Path, plugin: str) -> None:
    before = descendants()
    killer = WorkerKiller(tmp_path / "marks", plugin)
    began = time.monotonic()
    result = held_workflow(tmp_path, killer.marks).run(plugin=plugin, n_procs=2, retries=1)
    took = time.monotonic() - began
    killer.join()
    assert {name: result[name].out for name in EXPECTED} == EXPECTED
    assert took < 60, f"the run took {took:.1f} s (the held node's sleep alone is 30 s)"
    assert still_running(descendants() - before, GONE_WITHIN) == set()


@pytest.mark.parametrize("plugin", BACKENDS)
def test_without_retries_the_node_fails_naming_the_worker(tmp_path: Path, plugin: str) -> None:
    before = descendants()
    killer = WorkerKiller(tmp_path / "marks", plugin)
    with pytest.raises(flowmill.WorkflowError) as info:
        held_workflow(tmp_path, killer.marks).run(plugin=plugin, n_procs=2, retries=0)
    killer.join()
    result = info.value.result
    assert result.failed == ["held"] and result.skipped == ["tail"]
    assert {name: result[name].out for name in EXPECTED if name not in ("held", "tail")} == \
        {name: out for name, out in EXPECTED.items() if name not in ("held", "tail")}
    crash = json.loads((tmp_path / "held" / "held" / "crash.json").read_text())
    assert crash["error_type"] == "JobLost"
    assert str(killer.worker) in crash["error"]
    assert still_running(descendants() - before, GONE_WITHIN) == set()


@pytest.mark.parametrize("plugin", BACKENDS)
def test_what_the_node_started_dies_with_its_worker(tmp_path: Path, plugin: str) -> None:
    """The node's ``sleep 30`` is no descendant of the driver once its worker died
    (it is reparented), so it is looked for by its pid; it must not run beside the
    node's retry, nor after the run."""
    killer = WorkerKiller(tmp_path / "marks", plugin)
    held_workflow(tmp_path, killer.marks).run(plugin=plugin, n_procs=2, retries=1)
    killer.join()
    assert killer.child is not None
    assert still_running({killer.child}, GONE_WITHIN) == set(), "the killed node's sleep 30 is still running"
