"""The in-process backend stays honest: a node's sys.exit is that node's failure, a
Ctrl-C still interrupts, and after a node took the driver down the next run names it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flowmill import File, Node, ValidationError, Workflow, WorkflowError

REPO = Path(__file__).resolve().parent.parent


def constant(x: int = 1) -> int:
    return x


def exits(code: int) -> int:
    sys.exit(code)


def interrupts(x: int = 1) -> int:
    raise KeyboardInterrupt


def test_sys_exit_in_a_node_fails_that_node(tmp_path):
    wf = Workflow("exits", base_dir=tmp_path)
    node = Node(exits, name="e")
    node.inputs.code = 3
    wf.add_nodes([node, Node(constant, name="b")])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    assert info.value.result.executed == ["b"]
    [failed] = info.value.failed
    assert failed.name == "e" and failed.error == "SystemExit: the node called sys.exit(3)"


def test_keyboard_interrupt_in_a_node_still_interrupts_the_run(tmp_path):
    wf = Workflow("interrupted", base_dir=tmp_path)
    wf.add_nodes([Node(interrupts, name="i")])
    with pytest.raises(KeyboardInterrupt):
        wf.run()
    assert not list((tmp_path / "interrupted" / ".flowmill" / "running").glob("*"))


def _driver(base_dir: Path, a_value: str, x_mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.dying_driver", str(base_dir), a_value, x_mode], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("death", ["exit", "segfault"])
def test_the_run_after_a_driver_death_names_the_node_that_killed_it(tmp_path, death):
    died = _driver(tmp_path, "fine", death)
    assert died.returncode == (7 if death == "exit" else -11), died.stderr
    after = _driver(tmp_path, "boom", "ok")
    assert "the previous run" in after.stderr and "died while running node 'x'" in after.stderr
    shown = subprocess.run([sys.executable, "-m", "flowmill", "crash", str(tmp_path / "dying" / "x")],
                           capture_output=True, text=True)
    assert "Error:     DriverDied: the previous run" in shown.stdout, shown.stderr
    assert not list((tmp_path / "dying" / ".flowmill" / "running").glob("*"))


@pytest.mark.parametrize("death", ["exit", "segfault"])
def test_a_driver_death_is_reported_once_when_the_node_runs_again(tmp_path, death):
    """The run journal and the node lock both knew of the death (the lock from the
    ``.running`` left in the node's directory): reporting it once, from the journal,
    must also clear what the lock would have reported again."""
    assert _driver(tmp_path, "fine", death).returncode != 0
    after = _driver(tmp_path, "fine", "ok")
    assert after.returncode == 0, after.stderr
    assert after.stderr.count("died while running") == 1, after.stderr
    assert "the previous run" in after.stderr and "died while running node 'x'" in after.stderr
    assert [p.name for p in (tmp_path / "dying" / "x").iterdir()] == ["result.pkl"]


def test_an_unhashable_input_is_refused_before_anything_runs(tmp_path):
    wf = Workflow("unhashable", base_dir=tmp_path)
    node = Node(constant, name="b")
    node.inputs.x = threading.Lock()
    wf.add_nodes([Node(constant, name="a"), node])
    with pytest.raises(ValidationError, match=r"node 'b': input 'x' \(lock\) cannot be hashed"):
        wf.run()
    assert not (tmp_path / "unhashable" / "a").exists()


def read_all(paths: list) -> int:
    return sum(len(Path(path).read_text()) for path in paths)


def test_a_missing_file_input_of_a_python_node_is_a_validation_error(tmp_path):
    present = tmp_path / "present.txt"
    present.write_text("data")
    wf = Workflow("missing", base_dir=tmp_path)
    node = Node(read_all, name="r")
    node.inputs.paths = [File(present), File(tmp_path / "absent.txt")]
    wf.add_nodes([Node(constant, name="a"), node])
    with pytest.raises(ValidationError, match=r"node 'r': input 'paths': file '.*absent.txt' does not exist"):
        wf.run()
    assert not (tmp_path / "missing" / "a").exists()


SHARED = """
import logging, os, sys, time
from pathlib import Path
from flowmill import Node, Workflow

def act(what: str, release: str) -> str:
    if what == "die":
        os._exit(7)
    while what == "hold" and not os.path.exists(release):
        time.sleep(0.02)
    return what

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
base, name, what = sys.argv[1:4]
wf = Workflow("shared", base_dir=base)
node = Node(act, name=name)
node.inputs.what, node.inputs.release = what, str(Path(base) / "release")
wf.add_nodes([node])
wf.run()
"""


def test_drivers_sharing_a_base_dir_keep_their_journals_apart(tmp_path):
    """One driver holds a node (alive), another dies running one: the next run
    reports the dead one's node only, and leaves the live driver's journal alone."""
    script = tmp_path / "shared.py"
    script.write_text(SHARED)
    running = tmp_path / "shared" / ".flowmill" / "running"

    def driver(name: str, what: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(script), str(tmp_path), name, what], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    holder = driver("held", "hold")
    try:
        while not (tmp_path / "shared" / "held" / ".running").exists():
            assert holder.poll() is None, holder.communicate()
            time.sleep(0.02)
        dying = driver("killer", "die")
        assert dying.wait(timeout=120) == 7, dying.communicate()
        assert len(list(running.glob("*.jsonl"))) == 2
        after = driver("later", "fine")
        _, stderr = after.communicate(timeout=120)
        assert after.returncode == 0, stderr
        assert stderr.count("died while running") == 1, stderr
        assert "died while running node 'killer'" in stderr
        crash = subprocess.run([sys.executable, "-m", "flowmill", "crash", str(tmp_path / "shared" / "killer")],
                               capture_output=True, text=True)
        assert "DriverDied: the previous run" in crash.stdout, crash.stderr
        assert len(list(running.glob("*.jsonl"))) == 1
    finally:
        (tmp_path / "release").touch()
        assert holder.wait(timeout=120) == 0, holder.communicate()
    assert list(running.iterdir()) == []
    assert [p.name for p in (tmp_path / "shared" / "held").iterdir()] == ["result.pkl"]
