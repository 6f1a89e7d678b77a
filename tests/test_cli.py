"""The flowmill command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flowmill import Node, Workflow, WorkflowError


def fail(x: int) -> int:
    raise RuntimeError(f"cannot handle {x}")


def flowmill_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowmill.cli", *args], capture_output=True, text=True)


def test_plugins_lists_backends_with_distribution_and_options():
    done = flowmill_cli("plugins")
    assert done.returncode == 0, done.stderr
    assert "linear  (flowmill-linear 0.1.0, contract 2)" in done.stdout
    assert "retries: int = 0" in done.stdout
    assert ("  run options honoured, by mode:\n    default: retries yes, timeout no, max_jobs yes, "
            "stop_on_first_crash yes, result_grace yes, needs pickling no, shared FS no\n") in done.stdout


def test_crash_shows_a_crash_file_readably(tmp_path):
    wf = Workflow("c", base_dir=tmp_path)
    node = Node(fail, name="n")
    node.inputs.x = 7
    wf.add_nodes([node])
    with pytest.raises(WorkflowError):
        wf.run()
    done = flowmill_cli("crash", str(tmp_path / "c" / "n" / "crash.json"))
    assert done.returncode == 0
    assert "Error:     RuntimeError: cannot handle 7" in done.stdout
    assert "  x = 7" in done.stdout and "Traceback" in done.stdout
    assert flowmill_cli("crash", str(tmp_path / "c" / "n")).stdout == done.stdout


def test_crash_on_a_file_that_is_not_one(tmp_path):
    other = tmp_path / "x.json"
    other.write_text("not json")
    done = flowmill_cli("crash", str(other))
    assert done.returncode == 1 and "is not a flowmill crash file" in done.stderr
