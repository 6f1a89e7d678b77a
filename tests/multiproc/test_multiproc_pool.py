"""What the multiproc backend adds to the kit: the cores and memory each running node
holds, refusal of a node that can never fit, the defaults, and that no process
outlives the driver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from flowmill import Node, ValidationError, Workflow
from flowmill_multiproc import MultiProcOptions

from ._nodes import most_at_once, span


def fan(tmp_path: Path, width: int, seconds: float, resources: dict | None = None) -> tuple[Workflow, Path]:
    log = tmp_path / "spans.log"
    wf = Workflow("fan", base_dir=tmp_path)
    for i in range(width):
        node = Node(span, name=f"n{i}", resources=resources)
        node.inputs.x, node.inputs.log, node.inputs.seconds = i, str(log), seconds
        wf.add_nodes([node])
    return wf, log


def test_nodes_hold_their_cpus(tmp_path: Path) -> None:
    wf, log = fan(tmp_path, 4, 0.4, {"cpus": 2})
    wf.run(plugin="multiproc", n_procs=4)
    assert most_at_once(log) == 2


def test_nodes_hold_their_memory(tmp_path: Path) -> None:
    wf, log = fan(tmp_path, 3, 0.3, {"mem_gb": 2})
    wf.run(plugin="multiproc", n_procs=3, memory_gb=3.0)
    assert most_at_once(log) == 1


def test_every_core_is_used(tmp_path: Path) -> None:
    """8 × 0.5 s on 2 cores: 2 s of work each, started as soon as a core frees up."""
    wf, log = fan(tmp_path, 8, 0.5)
    began = time.monotonic()
    wf.run(plugin="multiproc", n_procs=2)
    assert most_at_once(log) == 2
    assert time.monotonic() - began < 3.5


@pytest.mark.parametrize("resources, message", [
    ({"cpus": 3}, r"node 'n1' asks for resources\['cpus'\]=3, but backend 'multiproc' has 2 for one job"),
    ({"mem_gb": 8}, r"node 'n1' asks for resources\['mem_gb'\]=8, but backend 'multiproc' has 4 GiB"),
])
def test_a_node_larger_than_the_pool_is_refused_up_front(tmp_path: Path, resources: dict, message: str) -> None:
    wf, log = fan(tmp_path, 2, 0.0)
    wf.get_node("n1").resources = resources
    with pytest.raises(ValidationError, match=message):
        wf.run(plugin="multiproc", n_procs=2, memory_gb=4.0)
    assert not log.exists()


def test_defaults_are_this_machine() -> None:
    options = MultiProcOptions()
    assert options.n_procs == os.cpu_count()
    assert options.memory_gb == pytest.approx(psutil.virtual_memory().total / 2**30, abs=0.01)


DRIVER = textwrap.dedent("""
    import sys
    from flowmill import Node, Workflow
    from tests.multiproc._nodes import sleeper
    wf = Workflow("orphans", base_dir=sys.argv[1])
    for i in range(2):
        node = Node(sleeper, name=f"s{i}")
        node.inputs.x, node.inputs.pids = i, sys.argv[2]
        wf.add_nodes([node])
    wf.run(plugin="multiproc", n_procs=2)
""")


def test_nothing_outlives_a_killed_driver(tmp_path: Path) -> None:
    """SIGKILL the driver while two nodes run: their workers and the tools they
    started go too (the workers' lifeline pipe closes)."""
    pids = tmp_path / "pids"
    pids.mkdir()
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), str(pids)],
                              cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(pids.iterdir())) == 4, "the nodes never started"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    recorded = [int(p.name.split("-")[1]) for p in pids.iterdir()]
    deadline = time.monotonic() + 15
    while any(map(running, recorded)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in recorded if running(pid)] == []


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
