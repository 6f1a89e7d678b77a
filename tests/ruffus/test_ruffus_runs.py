"""Several workflows in one process, one after another and in two threads at once:
Ruffus' process-global pipelines and task registry must not leak between runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import multiprocessing.pool

import psutil
import pytest
import ruffus.task
from ruffus import Pipeline
from ruffus.graph import node

import flowmill
from flowmill.testing._workflows import chain

from ._workflows import inc, wide

MODES = ["multiprocess", "multithread"]


def registry() -> tuple[set[str], int]:
    return set(Pipeline.pipelines), len(node._all_nodes)


@pytest.mark.parametrize("mode", MODES)
def test_consecutive_runs_leave_no_ruffus_state(tmp_path: Path, mode: str) -> None:
    before = registry()
    first = chain(tmp_path / "first", 5).run(plugin="ruffus", n_procs=2, mode=mode)
    second = chain(tmp_path / "second", 7).run(plugin="ruffus", n_procs=2, mode=mode)
    assert first["n4"].out == 5 and len(first.executed) == 5
    assert second["n6"].out == 7 and len(second.executed) == 7
    assert registry() == before


def test_ruffus_keeps_its_own_pool_outside_flowmill_runs(tmp_path: Path) -> None:
    """flowmill's runs build their Ruffus pool in their own way (see _pool); a Ruffus
    pipeline of the user's in the same process still gets Python's pool."""
    chain(tmp_path, 3).run(plugin="ruffus", n_procs=2)
    pool = ruffus.task.ProcessPool(1)
    try:
        assert isinstance(pool, multiprocessing.pool.Pool)
    finally:
        pool.terminate()


@pytest.mark.parametrize("mode", MODES)
def test_two_threads_run_workflows_at_once(tmp_path: Path, mode: str) -> None:
    before = registry()
    results: dict[str, flowmill.RunResult] = {}
    errors: list[BaseException] = []

    def run(name: str, start: int) -> None:
        try:
            wf = flowmill.Workflow(name, base_dir=tmp_path)
            for i in range(30):
                leaf = flowmill.Node(_offset, name=f"leaf{i}")
                leaf.inputs.x = start + i
                wf.add_nodes([leaf])
            wf.connect(wf.get_node("leaf0"), "out", flowmill.Node(inc, name="n0"), "x")
            results[name] = wf.run(plugin="ruffus", n_procs=2, mode=mode)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name, start)) for name, start in (("a", 0), ("b", 1000))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert [results["a"][f"leaf{i}"].out for i in range(30)] == [i + 7 for i in range(30)]
    assert [results["b"][f"leaf{i}"].out for i in range(30)] == [1000 + i + 7 for i in range(30)]
    assert results["a"]["n0"].out == 8 and results["b"]["n0"].out == 1008
    assert registry() == before


def _offset(x: int) -> int:
    return x + 7


@pytest.mark.parametrize("mode", MODES)
def test_ruffus_keeps_no_history_in_the_working_directory(tmp_path: Path, mode: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Ruffus' history would decide what is up to date; flowmill's cache does, so
    Ruffus' stays in memory, and files named like the nodes change nothing."""
    monkeypatch.chdir(tmp_path)
    for name in ("n0", "n1", "n2"):
        (tmp_path / name).write_text("not a flowmill result")
    wf = chain(tmp_path / "work", 3)
    assert wf.run(plugin="ruffus", n_procs=2, mode=mode)["n2"].out == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["n0", "n1", "n2", "work"]
    again = chain(tmp_path / "work", 3).run(plugin="ruffus", n_procs=2, mode=mode)
    assert again.executed == [] and sorted(again.cached) == ["n0", "n1", "n2"]


def test_modes_run_jobs_where_they_say(tmp_path: Path) -> None:
    """multiprocess: in worker processes; multithread: in threads of the driver;
    max_jobs=1 caps n_procs, and Ruffus then runs the jobs from the driver's own
    thread, still in a sandbox process (so a timeout can stop them), gone after the run."""
    driver = os.getpid()

    def ran_in(base: str, **options: object) -> tuple[set[int], set[int]]:
        result = wide(tmp_path / base, 8).run(plugin="ruffus", **options)
        return {result[f"w{i}"].pid for i in range(8)}, {result[f"w{i}"].thread for i in range(8)}

    pids, _ = ran_in("processes", n_procs=2, mode="multiprocess")
    assert driver not in pids and 1 <= len(pids) <= 2
    pids, threads = ran_in("threads", n_procs=2, mode="multithread")
    assert pids == {driver} and threading.get_ident() not in threads
    pids, threads = ran_in("capped", n_procs=2, mode="multiprocess", max_jobs=1)
    assert len(pids) == 1 and driver not in pids and len(threads) == 1
    assert not psutil.pid_exists(pids.pop())


def test_threads_run_what_does_not_pickle(tmp_path: Path) -> None:
    """multithread jobs stay in the driver process, so nothing is pickled: a lambda
    over an open handle runs (worker processes refuse it up front)."""
    lock = threading.Lock()
    wf = flowmill.Workflow("unpicklable", base_dir=tmp_path)
    node = flowmill.Node(lambda x: x + int(not lock.locked()), name="n")
    node.inputs.x = 1
    wf.add_nodes([node])
    assert wf.run(plugin="ruffus", n_procs=2, mode="multithread")["n"].out == 2
    with pytest.raises(flowmill.ValidationError, match="cannot be pickled"):
        wf.run(plugin="ruffus", n_procs=2, mode="multiprocess")
