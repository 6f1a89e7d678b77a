"""A crash record's rerun command works: the job file is there for every crash, and
the command reruns that node alone in the foreground, printing its output and how it
ended."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from flowmill import Node, Workflow, WorkflowError

from .ruffus._workflows import vanish


def noisy_failure(x: int) -> int:
    print(f"hello from the node (x={x})")
    raise ValueError("wrong on purpose")


def test_the_rerun_command_of_a_crash_reruns_the_node_and_shows_its_output(tmp_path):
    wf = Workflow("rerun", base_dir=tmp_path)
    node = Node(noisy_failure, name="n")
    node.inputs.x = 5
    wf.add_nodes([node])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    record = json.loads(info.value.failed[0].crash_file.read_text())
    for command in (shlex.split(record["rerun"]), [sys.executable, "-m", "flowmill", "rerun", record["node_dir"]]):
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 1
        assert "hello from the node (x=5)" in done.stdout
        assert "node n failed; crash record" in done.stderr and "ValueError: wrong on purpose" in done.stderr


def test_a_crash_the_core_wrote_has_its_job_file(tmp_path):
    wf = Workflow("lost", base_dir=tmp_path)
    node = Node(vanish, name="v")
    node.inputs.x = 1
    node.inputs.tally = str(tmp_path / "tally.txt")
    wf.add_nodes([node])
    with pytest.raises(WorkflowError) as info:
        wf.run(plugin="ruffus", n_procs=2, mode="multiprocess")
    [failed] = info.value.failed
    assert failed.error.startswith("lost 1 time(s)")
    done = subprocess.run([sys.executable, "-m", "flowmill", "rerun", str(tmp_path / "lost" / "v")],
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
