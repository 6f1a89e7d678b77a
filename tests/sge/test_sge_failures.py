"""Jobs that die, get deleted or are interrupted: what the crash file says, retries,
and that a stopped driver leaves nothing queued."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from tests.fixtures.sge import held, sge_command, wait_until_gone

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]

RECORD = "sge_job.json"


def nap_once(seconds: float, marker: str) -> int:
    """Sleeps on its first run only; counts its runs in ``marker``."""
    first = not os.path.exists(marker)
    with open(marker, "a") as handle:
        handle.write("run\n")
    if first:
        time.sleep(seconds)
    return len(Path(marker).read_text().splitlines())


def crash_hard(code: int) -> None:
    sys.stderr.write("worker going down hard\n")
    sys.stderr.flush()
    os._exit(code)


def wait_for_record(node_dir: Path, running: bool = True, seconds: float = 30.0) -> str:
    """The SGE id of the node's job once it is recorded (and running, if asked)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sge_id = json.loads((node_dir / RECORD).read_text())["sge_job_id"]
        except (FileNotFoundError, ValueError):
            time.sleep(0.2)
            continue
        if not running or any(line.split()[:1] == [sge_id] and line.split()[4] == "r"
                              for line in sge_command("qstat").stdout.splitlines()[2:]):
            return sge_id
        time.sleep(0.2)
    raise AssertionError(f"no running job recorded in {node_dir} within {seconds}s")


def qdel_when_running(node_dir: Path) -> threading.Thread:
    """Deletes the node's job once its function began (it noted its run in runs.txt):
    Grid Engine shows a job running before its Python has started."""

    def kill() -> None:
        sge_id = wait_for_record(node_dir)
        marker = node_dir.parent.parent / "runs.txt"
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        sge_command("qdel", sge_id)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def napper(tmp_path: Path, name: str = "nap") -> tuple[Workflow, Path]:
    wf = Workflow("killed", base_dir=tmp_path)
    node = Node(nap_once, name=name)
    node.inputs.seconds = 120
    node.inputs.marker = str(tmp_path / "runs.txt")
    wf.add_nodes([node])
    return wf, tmp_path / "killed" / name


@pytest.mark.parametrize("graph", [False, True])
def test_qdel_is_reported_as_killed(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool) -> None:
    wf, node_dir = napper(tmp_path)
    killer = qdel_when_running(node_dir)
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="sge", graph=graph, **sge_run_options)
    killer.join()
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert crash["error_type"] == "JobLost"
    assert "killed or aborted by the scheduler (qdel" in crash["error"]
    assert crash["details"]["sge_job_id"].isdigit()
    assert crash["details"]["stderr"] == str(node_dir / "sge.stderr")


@pytest.mark.parametrize("graph", [False, True])
def test_retries_resubmit_a_killed_job(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool) -> None:
    wf, node_dir = napper(tmp_path)
    killer = qdel_when_running(node_dir)
    res = wf.run(plugin="sge", graph=graph, retries=1, **sge_run_options)
    killer.join()
    assert res["nap"].out == 2
    assert res.executed == ["nap"]


@pytest.mark.parametrize("graph", [False, True])
def test_timeout_is_grid_engines_h_rt(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool) -> None:
    """The run's timeout goes with the job as -l h_rt; Grid Engine's kill at that limit
    is a Timeout (never retried), with the job id in the crash file."""
    wf, node_dir = napper(tmp_path)
    started = time.monotonic()
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="sge", graph=graph, timeout=3, retries=1, **sge_run_options)
    assert time.monotonic() - started < 60
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert crash["error_type"] == "Timeout"
    assert crash["error"].startswith("timed out after 3")
    assert crash["details"]["sge_job_id"].isdigit()
    assert "h_rt" in crash["details"]["backend_reason"]
    assert (tmp_path / "runs.txt").read_text() == "run\n"


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("graph", [False, True])
def test_a_kill_before_the_timeout_is_lost(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool) -> None:
    wf = Workflow("killed", base_dir=tmp_path)
    wf.add_nodes([Node(kill_myself, name="kill")])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="sge", graph=graph, timeout=60, **sge_run_options)
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert crash["error_type"] == "JobLost"
    assert "killed by signal SIGKILL" in crash["error"]


def fail_in_the_node() -> None:
    raise ValueError("the node's own error")


def crash_of_failing(tmp_path: Path, function: Any, run_options: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    """Runs a one-node workflow that must fail; returns its crash record, after
    checking that it names the node's Grid Engine job."""
    wf = Workflow("faults", base_dir=tmp_path)
    node = Node(function, name="fault")
    for name, value in inputs.items():
        setattr(node.inputs, name, value)
    wf.add_nodes([node])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="sge", **run_options)
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert crash["details"]["sge_job_id"].isdigit(), crash["details"]
    return crash


@pytest.mark.parametrize("graph", [False, True])
@pytest.mark.parametrize("fault, inputs, error_type", [(fail_in_the_node, {}, "ValueError"),
                                                       (kill_myself, {}, "JobLost"),
                                                       (crash_hard, {"code": 7}, "JobLost")])
def test_every_crash_file_names_its_job(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool,
                                        fault: Any, inputs: dict[str, Any], error_type: str) -> None:
    """Whatever ended the job (its node's own error, a signal, its worker's exit), the
    crash file gives the Grid Engine job id to look up (qacct -j); killed by qdel and
    timed out are checked above."""
    crash = crash_of_failing(tmp_path, fault, {**sge_run_options, "graph": graph}, **inputs)
    assert crash["error_type"] == error_type


def test_worker_dying_is_lost_with_its_stderr(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("dies", base_dir=tmp_path)
    node = Node(crash_hard, name="die")
    node.inputs.code = 7
    wf.add_nodes([node])
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="sge", **sge_run_options)
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert "exited with status 7" in crash["error"]
    assert crash["details"]["exit_status"] == 7
    assert "worker going down hard" in crash["details"]["stderr_tail"]


DRIVER = textwrap.dedent("""
    import sys, time
    from flowmill import Node, Workflow

    def nap(seconds):
        time.sleep(seconds)
        return seconds

    wf = Workflow("interrupted", base_dir=sys.argv[1])
    for i in range(3):
        node = Node(nap, name=f"nap{i}")
        node.inputs.seconds = 300
        wf.add_nodes([node])
    wf.run(plugin="sge", graph=sys.argv[2] == "graph")
""")


@pytest.mark.parametrize("graph, stop", [("jobs", signal.SIGINT), ("graph", signal.SIGINT),
                                         ("jobs", signal.SIGKILL)])
def test_stopped_driver_deletes_its_jobs(tmp_path: Path, sge_run_options: dict[str, Any], graph: str,
                                         stop: signal.Signals) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(tmp_path), graph], stderr=subprocess.PIPE,
                              text=True)
    try:
        sge_ids = [wait_for_record(tmp_path / "interrupted" / f"nap{i}", running=False) for i in range(3)]
        assert held(sge_ids) == sorted(sge_ids)
        driver.send_signal(stop)
        _, stderr = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode != 0
    if stop == signal.SIGINT:
        assert "KeyboardInterrupt" in stderr
    assert wait_until_gone(sge_ids, 60) == []
