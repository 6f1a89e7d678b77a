"""Every engine of the cluster SIGKILLed mid-run: the run fails within a bounded time,
its crash records naming the engines, instead of waiting forever."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from flowmill import Node, Workflow, WorkflowError

from ..killed_driver import sleeper

pytestmark = pytest.mark.ipython


def _kill_engines_once_started(markers: Path, started: int, killed: list[str], at: list[float]) -> None:
    while len(list(markers.glob("started-*"))) < started:
        time.sleep(0.1)
    at.append(time.monotonic())
    for process in psutil.Process().children(recursive=True):
        try:
            if any("ipyparallel.engine" in part for part in process.cmdline()):
                process.kill()
                killed.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            continue


@pytest.mark.timeout(240)
def test_all_engines_killed_fails_the_run_naming_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython-dir"))
    markers = tmp_path / "markers"
    markers.mkdir()
    wf = Workflow("gone", base_dir=tmp_path)
    nodes = []
    for index in range(6):
        node = Node(sleeper, name=f"s{index}")
        node.inputs.index = index
        node.inputs.base = str(markers)
        nodes.append(node)
    wf.add_nodes(nodes)
    killed: list[str] = []
    at: list[float] = []
    killer = threading.Thread(target=_kill_engines_once_started, args=(markers, 2, killed, at), daemon=True)
    killer.start()
    with pytest.raises(WorkflowError) as info:
        wf.run(plugin="ipython", n_engines=2, tasks_per_engine=1, retries=1)
    ended = time.monotonic()
    killer.join()
    assert killed and ended - at[0] < 60, f"the run ended {ended - at[0]:.0f} s after the kill"
    print(f"run ended {ended - at[0]:.1f} s after the engines were killed")
    failed = info.value.failed
    assert failed and all("every IPython engine of the cluster is gone (engine(s) 0, 1 died" in node.error
                          for node in failed), [node.error for node in failed]
    assert sorted(info.value.result.skipped + [node.name for node in failed]) == [f"s{i}" for i in range(6)]
