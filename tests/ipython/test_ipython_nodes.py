"""Node kinds and run controls on the session's ipcluster: lambdas and closures, a
script's ``__main__`` functions, engine state that must not leak between tasks, the
per-node timeout and Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import ipyparallel
import pytest

import flowmill
from flowmill import Node, Workflow

from ..fixtures.ipython import cluster_processes

pytestmark = pytest.mark.ipython

REPO = Path(__file__).resolve().parents[2]


def _idle_within(url_file: str, seconds: float) -> bool:
    """True once no engine of the cluster has a task queued or running."""
    client = ipyparallel.Client(url_file)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = client.queue_status()
            if status["unassigned"] == 0 and all(status[e]["queue"] + status[e]["tasks"] == 0 for e in client.ids):
                return True
            time.sleep(0.2)
        return False
    finally:
        client.close()


def _engine_pids(url_file: str) -> set[int]:
    client = ipyparallel.Client(url_file)
    try:
        return set(client[:].apply_sync(os.getpid))
    finally:
        client.close()


def test_lambda_and_closure_nodes(tmp_path: Path, ipython_run_options: dict[str, Any]) -> None:
    offset = 1000
    table = {"a": 1, "b": 2}

    def lookup(key: str) -> int:
        return table[key] + offset

    wf = Workflow("closures", base_dir=tmp_path)
    first = Node(lambda x: x * 3, name="triple")
    first.inputs.x = 7
    second = Node(lookup, name="lookup")
    second.inputs.key = "b"
    total = Node(lambda x, y: x + y, name="total")
    wf.connect([(first, total, [("out", "x")]), (second, total, [("out", "y")])])
    res = wf.run(plugin="ipython", **ipython_run_options)
    assert res["triple"].out == 21
    assert res["lookup"].out == 1002
    assert res["total"].out == 1023


def test_main_module_functions_of_a_script(tmp_path: Path, ipython_run_options: dict[str, Any]) -> None:
    script = tmp_path / "pipeline.py"
    script.write_text(textwrap.dedent("""
        import sys
        from flowmill import Node, Workflow

        BASE = 10

        class Scaler:
            def __init__(self, factor):
                self.factor = factor

        def grow(x):
            return Scaler(3).factor * x + BASE

        wf = Workflow("script", base_dir=sys.argv[2])
        node = Node(grow, name="grow")
        node.inputs.x = 4
        wf.add_nodes([node])
        print("RESULT", wf.run(plugin="ipython", url_file=sys.argv[1])["grow"].out)
    """))
    done = subprocess.run([sys.executable, str(script), ipython_run_options["url_file"], str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "RESULT 22" in done.stdout


def probe_then_mess(previous: Any = None) -> tuple[str | None, str, int]:
    """Report the engine state found, then leave a mess for the next task."""
    found = os.environ.get("FLOWMILL_LEAK"), os.getcwd(), os.getpid()
    os.environ["FLOWMILL_LEAK"] = "leaked"
    os.chdir("/")
    return found


def test_engine_state_does_not_leak_between_tasks(tmp_path: Path, ipython_run_options: dict[str, Any]) -> None:
    wf = Workflow("leaks", base_dir=tmp_path)
    previous = None
    for i in range(6):
        probe = Node(probe_then_mess, name=f"probe{i}", outputs=["leak", "cwd", "pid"])
        if previous is None:
            wf.add_nodes([probe])
        else:
            wf.connect(previous, "pid", probe, "previous")
        previous = probe
    res = wf.run(plugin="ipython", **ipython_run_options)
    engines = _engine_pids(ipython_run_options["url_file"])
    pids = [res[f"probe{i}"].pid for i in range(6)]
    assert len(engines) == 2 and set(pids) <= engines, f"probes ran in {pids}, not on the engines {engines}"
    assert len(set(pids)) < len(pids), "no engine ran two probes"
    for i in range(6):
        assert res[f"probe{i}"].leak is None
        assert res[f"probe{i}"].cwd != "/"


def snooze(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_timeout_stops_the_node_and_frees_the_engine(tmp_path: Path, ipython_run_options: dict[str, Any]) -> None:
    wf = Workflow("timeouts", base_dir=tmp_path)
    slow = Node(snooze, name="slow")
    slow.inputs.seconds = 60
    quick = Node(snooze, name="quick")
    quick.inputs.seconds = 0.1
    wf.add_nodes([slow, quick])
    started = time.monotonic()
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="ipython", timeout=2, **ipython_run_options)
    assert time.monotonic() - started < 30
    assert [f.name for f in info.value.failed] == ["slow"]
    assert "timed out after 2" in str(info.value)
    assert info.value.result["quick"].out == 0.1
    assert _idle_within(ipython_run_options["url_file"], 10), "the timed-out task still occupies an engine"


def snooze_marked(marker_dir: str, seconds: float) -> float:
    Path(marker_dir, f"{os.getpid()}-{seconds}").touch()
    time.sleep(seconds)
    return seconds


def _interrupt_driver(tmp_path: Path, options: dict[str, Any], env: dict[str, str]) -> str:
    """Run six minute-long nodes in a driver process, press Ctrl-C once they run, and
    return the driver's stderr."""
    markers = tmp_path / "markers"
    markers.mkdir()
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        from flowmill import Node, Workflow
        from tests.ipython.test_ipython_nodes import snooze_marked

        wf = Workflow("interrupted", base_dir=sys.argv[2])
        for i in range(6):
            node = Node(snooze_marked, name=f"sleep{i}")
            node.inputs.marker_dir = sys.argv[3]
            node.inputs.seconds = 60 + i
            wf.add_nodes([node])
        wf.run(plugin="ipython", **json.loads(sys.argv[1]))
    """))
    driver = subprocess.Popen([sys.executable, str(script), json.dumps(options), str(tmp_path), str(markers)],
                              stderr=subprocess.PIPE, text=True, env={**env, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 60
        while not any(markers.iterdir()) and time.monotonic() < deadline and driver.poll() is None:
            time.sleep(0.1)
        driver.send_signal(signal.SIGINT)
        _, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode != 0 and "KeyboardInterrupt" in stderr, stderr
    assert not list((tmp_path / "interrupted").glob("*/result.pkl"))
    return stderr


def test_ctrl_c_aborts_outstanding_tasks(tmp_path: Path, ipython_run_options: dict[str, Any]) -> None:
    stderr = _interrupt_driver(tmp_path, ipython_run_options, dict(os.environ))
    assert _idle_within(ipython_run_options["url_file"], 10), f"tasks of the interrupted run kept running {stderr}"


def test_ctrl_c_stops_the_temporary_cluster(tmp_path: Path) -> None:
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython-dir")}
    stderr = _interrupt_driver(tmp_path, {"n_engines": 2}, env)
    started = re.search(r"temporary local cluster of 2 engines in (\S+);", stderr)
    assert started, stderr
    assert cluster_processes(started.group(1)) == []
    assert not Path(started.group(1)).exists()
