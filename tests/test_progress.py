"""Progress: a line per event when stderr is not a terminal, a live display in one,
quiet with ``progress=False``, and replaceable like any observer."""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import flowmill
from flowmill import Node, Workflow, WorkflowError

REPO = Path(__file__).resolve().parent.parent


def inc(x: int) -> int:
    return x + 1


def fail(x: int) -> int:
    raise ValueError(f"no {x}")


def fan(tmp_path, first=inc) -> Workflow:
    """a -> b, and c on its own."""
    wf = Workflow("fan", base_dir=tmp_path)
    a = Node(first, name="a")
    a.inputs.x = 1
    b = Node(inc, name="b")
    wf.connect(a, "out", b, "x")
    c = Node(inc, name="c")
    c.inputs.x = 2
    wf.add_nodes([c])
    return wf


def test_a_line_per_event_on_stderr_when_it_is_not_a_terminal(tmp_path, capsys):
    with pytest.raises(WorkflowError) as caught:
        fan(tmp_path, first=fail).run()
    run_id = caught.value.result.run_id
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"flowmill: run {run_id} of fan: 3 node(s) on backend linear"
    crash = tmp_path / "fan" / "a" / "crash.json"
    assert f"[1/3] FAILED a: ValueError: no 1 (crash file: {crash})" in lines
    assert "[2/3] skipped b (because of a)" in lines
    assert any(re.fullmatch(rf"\[3/3\] done c \(\d\.\d\ds on {socket.gethostname()}\)", line) for line in lines)
    assert re.fullmatch(rf"flowmill: run {run_id} finished: RunResult\(.*ran=1, failed=1, skipped=1\) in .*s",
                        lines[-1])


def test_cached_nodes_fold_into_one_line(tmp_path, capsys):
    fan(tmp_path).run()
    capsys.readouterr()
    fan(tmp_path).run()
    assert "[3/3] 3 node(s) cached" in capsys.readouterr().err.splitlines()


def test_progress_false_is_quiet(tmp_path, capsys):
    fan(tmp_path).run(progress=False)
    assert capsys.readouterr() == ("", "")


class Counter:
    """A third-party progress display: counts what finished."""

    def __init__(self) -> None:
        self.finished: list[str] = []

    @flowmill.hookimpl
    def flowmill_node_finished(self, job):
        self.finished.append(job.id)


def test_a_third_party_display_replaces_the_builtin_one(tmp_path, capsys):
    manager = flowmill.plugin_manager()
    builtin = manager.unregister(name="flowmill.progress")
    counter = Counter()
    flowmill.register(counter)
    try:
        fan(tmp_path).run()
    finally:
        flowmill.unregister(counter)
        manager.register(builtin, name="flowmill.progress")
    assert sorted(counter.finished) == ["a", "b", "c"]
    assert capsys.readouterr().err == ""


LIVE = """
import os, sys, time
import flowmill
from flowmill import Node, Workflow

def nap(x: int) -> int:
    with open("pid", "w") as mine:
        mine.write(str(os.getpid()))
    time.sleep(x)
    return x

def fail(x: int) -> int:
    raise ValueError("broken")

wf = Workflow("live", base_dir=sys.argv[1])
for name, func, x in (("sleepy", nap, 2), ("quick", nap, 0), ("bad", fail, 0)):
    node = Node(func, name=name)
    node.inputs.x = x
    wf.add_nodes([node])
try:
    wf.run(plugin="multiproc", n_procs=3)
except flowmill.WorkflowError:
    pass
"""


def test_a_live_display_in_a_terminal(tmp_path):
    """Run in a pseudo-terminal: rich redraws the counts, elapsed time, ETA and the
    running nodes with the process each runs in, and prints the failure with its
    crash file above them."""
    script = tmp_path / "live.py"
    script.write_text(LIVE)
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=REPO, stdin=slave, stdout=slave,
                               stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(60) == 0
    os.close(master)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode()).replace("\r", "")
    assert "live on multiproc (run " in screen
    assert re.search(r"running 1 done 1 failed 1\s+elapsed \d", screen)
    worker = (tmp_path / "live" / "sleepy" / "pid").read_text()
    assert re.search(rf"  running sleepy \([\d.]+s\) on {socket.gethostname()} pid {worker}(?!\d)", screen), screen
    assert "ETA " in screen
    assert f"FAILED bad: ValueError: broken\n  crash file: {tmp_path / 'live' / 'bad' / 'crash.json'}" in screen
    assert re.search(r"flowmill: run \w+ finished: RunResult\(.*ran=2, failed=1\) in \d", screen)
