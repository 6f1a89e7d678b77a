"""Jobs that die, run out of memory, or outlive a slurmctld restart: what the crash
file says (Slurm's state, job id, log), and that the status of every job of a run
comes from one squeue per interval."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flowmill import Node, Workflow, WorkflowError

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_no_leftovers")]

MODES = pytest.mark.parametrize("graph", [False, True], ids=["job-level", "graph"])


def crash_hard(code: int) -> None:
    sys.stderr.write("worker going down hard\n")
    sys.stderr.flush()
    os._exit(code)


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def hog_memory(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    time.sleep(5)
    return len(block)


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def node(func: Any, name: str, resources: dict[str, Any] | None = None, **inputs: Any) -> Node:
    made = Node(func, name=name, resources=resources)
    for key, value in inputs.items():
        setattr(made.inputs, key, value)
    return made


def crash_of(tmp_path: Path, name: str, node: str) -> dict[str, Any]:
    return json.loads((tmp_path / name / node / "crash.json").read_text())


def run_failing(tmp_path: Path, options: dict[str, Any], func: Any, name: str,
                resources: dict[str, Any] | None = None, **inputs: Any) -> dict[str, Any]:
    wf = Workflow(name, base_dir=tmp_path)
    wf.add_nodes([node(func, "victim", resources, **inputs)])
    with pytest.raises(WorkflowError):
        wf.run(plugin="slurm", **options)
    return crash_of(tmp_path, name, "victim")


@MODES
def test_worker_dying_is_lost_with_its_log(tmp_path: Path, slurm_run_options: dict[str, Any], graph: bool) -> None:
    crash = run_failing(tmp_path, {**slurm_run_options, "graph": graph, "retries": 0}, crash_hard, "dying", code=3)
    details = crash["details"]
    assert crash["error_type"] == "JobLost"
    assert re.search(r"Slurm job \d+ exited with status 3", crash["error"]), crash["error"]
    assert details["state"] == "FAILED" and details["exit_status"] == 3
    assert details["log"] == str(tmp_path / "dying" / "victim" / "slurm.out")
    assert "worker going down hard" in details["log_tail"]
    assert details["slurm_job_id"].isdigit()


def test_signal_is_reported(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    crash = run_failing(tmp_path, {**slurm_run_options, "retries": 0}, kill_myself, "signalled")
    assert crash["details"]["exit_status"] != 0 or crash["details"].get("signal") == 9, crash["details"]
    assert "Slurm job" in crash["error"]
    assert crash["details"]["slurm_job_id"].isdigit()


def scancel_when_running(node_dir: Path) -> threading.Thread:
    """scancel the node's job once its batch script runs (its log exists)."""
    def cancel() -> None:
        deadline = time.monotonic() + 60
        while not (node_dir / "slurm.out").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        line = (node_dir / "slurm_job.py").read_text().splitlines()[1]
        name = re.search(r"--job-name=(\S+)", line).group(1)
        subprocess.run(["scancel", f"--name={name}"], check=True)

    thread = threading.Thread(target=cancel, daemon=True)
    thread.start()
    return thread


@MODES
def test_scancel_is_reported(tmp_path: Path, slurm_run_options: dict[str, Any], graph: bool) -> None:
    wf = Workflow("cancelled", base_dir=tmp_path)
    wf.add_nodes([node(nap, "victim", seconds=60)])
    killer = scancel_when_running(tmp_path / "cancelled" / "victim")
    with pytest.raises(WorkflowError):
        wf.run(plugin="slurm", retries=0, **{**slurm_run_options, "graph": graph})
    killer.join()
    crash = crash_of(tmp_path, "cancelled", "victim")
    assert crash["error_type"] == "JobLost"
    assert "was cancelled (scancel" in crash["error"], crash["error"]
    assert crash["details"]["state"] == "CANCELLED"
    assert crash["details"]["slurm_job_id"].isdigit()


def test_memory_limit_kill_is_reported(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    """Without cgroups Slurm's accounting kills the job over its --mem (reported as a
    signal 9 rather than OUT_OF_MEMORY); the crash file says which limit to suspect."""
    crash = run_failing(tmp_path, {**slurm_run_options, "retries": 0}, hog_memory, "hog", {"mem_gb": 0.1},
                        mb=600)
    assert crash["error_type"] == "JobLost"
    assert "memory" in crash["error"], crash["error"]
    assert "--mem=103M" in (tmp_path / "hog" / "victim" / "slurm_job.py").read_text()


@MODES
def test_timeout_is_enforced_to_the_second(tmp_path: Path, slurm_run_options: dict[str, Any], graph: bool) -> None:
    wf = Workflow("slow", base_dir=tmp_path)
    wf.add_nodes([node(nap, "victim", seconds=60)])
    started = time.monotonic()
    with pytest.raises(WorkflowError):
        wf.run(plugin="slurm", timeout=3, **{**slurm_run_options, "graph": graph})
    assert time.monotonic() - started < 30
    crash = crash_of(tmp_path, "slow", "victim")
    assert crash["error_type"] == "Timeout"
    assert crash["error"] == "timed out after 3s (run option timeout)"
    assert crash["details"]["slurm_job_id"].isdigit()
    assert "--time=2" in (tmp_path / "slow" / "victim" / "slurm_job.py").read_text()


def job_info_requests() -> int:
    """How many job-information RPCs (squeue, scontrol show job) slurmctld answered."""
    out = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"REQUEST_JOB_INFO\s+\(\s*\d+\)\s+count:(\d+)", out)
    return int(match.group(1)) if match else 0


@MODES
def test_one_squeue_per_interval_for_all_jobs(tmp_path: Path, slurm_run_options: dict[str, Any],
                                              graph: bool) -> None:
    wf = Workflow("many", base_dir=tmp_path)
    wf.add_nodes([node(nap, f"n{i}", seconds=4) for i in range(12)])
    before = job_info_requests()
    started = time.monotonic()
    wf.run(plugin="slurm", **{**slurm_run_options, "graph": graph, "poll_interval": 1.0, "poll_most": 2.0})
    elapsed = time.monotonic() - started
    queries = job_info_requests() - before
    assert 0 < queries <= elapsed / 1.0 + 2, (queries, elapsed)


def test_a_slurmctld_restart_is_ridden_out(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    """squeue failing with 'Unable to contact slurm controller' is retried: the jobs
    survive the restart and the run finishes."""
    wf = Workflow("restart", base_dir=tmp_path)
    wf.add_nodes([node(nap, f"n{i}", seconds=6) for i in range(3)])

    def restart() -> None:
        time.sleep(2)
        pid = int(Path("/run/slurmctld.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.2)
        time.sleep(3)
        subprocess.run(["setsid", "/usr/sbin/slurmctld"], check=True)

    restarter = threading.Thread(target=restart)
    restarter.start()
    try:
        res = wf.run(plugin="slurm", **slurm_run_options)
    finally:
        restarter.join()
    assert {res[f"n{i}"].out for i in range(3)} == {6}
