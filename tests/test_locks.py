"""Drivers sharing a base_dir cooperate: started together on overlapping graphs, they
execute every node once (counted by the nodes' side effects) and both return the right
values; a node whose runner died mid-run is run again, with a warning naming it."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from flowmill import LocksRefused, Node, Workflow, WorkflowError
from flowmill.store.results import read_crash

DRIVER = '''
import json, os, sys, time
from pathlib import Path
from flowmill import Node, Workflow

def step(x: int, i: int, log: str) -> int:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{i}\\n".encode())
    os.close(fd)
    time.sleep(0.005)
    return x + i

base, shape, options, go, out = sys.argv[1:6]
wf = Workflow(shape, base_dir=base)
root = Node(step, name="n0")
root.inputs.x, root.inputs.i, root.inputs.log = 0, 0, str(Path(base) / "calls.txt")
previous = root
for i in range(1, 50 if shape == "chain" else 201):
    node = Node(step, name=f"n{i}")
    node.inputs.i, node.inputs.log = i, root.inputs.log
    wf.connect(root if shape == "fanout" else previous, "out", node, "x")
    previous = node
Path(out + ".ready").touch()
while not os.path.exists(go):
    time.sleep(0.001)
res = wf.run(**json.loads(options))
Path(out).write_text(json.dumps({name: res[name].out for name in res}))
'''


@pytest.mark.parametrize("shape", ["chain", "fanout"])
def test_two_drivers_started_together_run_each_node_once(backend, tmp_path, shape):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    options = json.dumps({"plugin": backend.name, **backend.options})
    go = tmp_path / "go"
    outs = [tmp_path / f"out{k}.json" for k in range(2)]
    drivers = [subprocess.Popen([sys.executable, str(script), str(tmp_path), shape, options, str(go), str(out)])
               for out in outs]
    while not all(Path(f"{out}.ready").exists() for out in outs):
        time.sleep(0.01)
    go.touch()
    assert [driver.wait(timeout=300) for driver in drivers] == [0, 0]
    calls = Counter((tmp_path / "calls.txt").read_text().split())
    assert calls == Counter({str(i): 1 for i in range(50 if shape == "chain" else 201)})
    results = [json.loads(out.read_text()) for out in outs]
    expected = ({f"n{i}": i * (i + 1) // 2 for i in range(50)} if shape == "chain"
                else {f"n{i}": i for i in range(201)})
    assert results == [expected, expected]


def die_once(x: int, marker: str) -> int:
    if not Path(marker).exists():
        Path(marker).touch()
        import os
        os._exit(9)
    return x + 1


@pytest.mark.parametrize("options, who", [
    ({}, r"the previous run \(\w+, pid \d+ on \S+\)"),
    ({"plugin": "multiproc", "n_procs": 1, "retries": 1}, r"an earlier attempt of this run \(pid \d+ on \S+\)")],
    ids=["linear-driver", "multiproc-worker"])
def test_a_node_whose_runner_died_running_it_runs_again_with_one_warning(tmp_path, options, who):
    """On linear the driver itself dies and the next run reports it (from its run
    journal); on multiproc the worker dies and the node's retry reports it (from the
    ``.running`` it left). Either way once, and nothing of it is left behind."""
    script = tmp_path / "dies.py"
    script.write_text(
        "import logging, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from tests.test_locks import build\n"
        "logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')\n"
        f"print(build({str(tmp_path)!r}).run(**{options!r})['n'].out)\n")
    runs = [subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
            for _ in range(1 if options else 2)]
    assert runs[0].returncode == (0 if options else 9), runs[0].stderr
    assert runs[-1].stdout == "2\n", runs[-1].stderr
    warnings = [line for run in runs for line in run.stderr.splitlines() if "died while running" in line]
    assert len(warnings) == 1, warnings
    assert re.fullmatch(rf"WARNING {who} died while running node 'n'.*", warnings[0]), warnings
    assert [p.name for p in (tmp_path / "dies/n").iterdir() if p.name.startswith(".")] == []


def build(base_dir: str | Path) -> Workflow:
    wf = Workflow("dies", base_dir=base_dir)
    node = Node(die_once, name="n")
    node.inputs.x, node.inputs.marker = 1, str(Path(base_dir) / "died")
    wf.add_nodes([node])
    return wf


def refuse_locks(monkeypatch, under: Path, code: int, *, directories_only: bool) -> None:
    """Make ``flock`` refuse, with ``code``, the files (or only the directories) under
    ``under``, as a file system without lock support does. This injects the errno at the
    OS-call boundary (``fcntl.flock`` itself): no file system here refuses locks (NFS,
    where they do, has no client on the test machines)."""
    real = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.startswith(str(under)) and (os.path.isdir(path) or not directories_only):
            raise OSError(code, os.strerror(code))
        real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)


def counted(x: int, log: str) -> int:
    with open(log, "a") as handle:
        handle.write("ran\n")
    return x + 1


def one_counted(tmp_path: Path) -> Workflow:
    wf = Workflow("nolocks", base_dir=tmp_path / "work")
    node = Node(counted, name="n")
    node.inputs.x, node.inputs.log = 1, str(tmp_path / "calls.txt")
    wf.add_nodes([node])
    return wf


def test_a_directory_that_cannot_be_locked_is_locked_through_a_file(tmp_path, monkeypatch):
    """NFS refuses ``flock`` on a directory opened read-only (EBADF): the node.lock file is locked instead."""
    refuse_locks(monkeypatch, tmp_path / "work", errno.EBADF, directories_only=True)
    assert one_counted(tmp_path).run(progress=False)["n"].out == 2
    assert (tmp_path / "work" / "nolocks" / "n" / "node.lock").is_file()
    assert one_counted(tmp_path).run(progress=False).cached == ["n"]
    assert (tmp_path / "calls.txt").read_text() == "ran\n"


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_a_file_system_refusing_every_lock_fails_the_node_naming_the_fix(tmp_path, monkeypatch, code):
    refuse_locks(monkeypatch, tmp_path / "work", code, directories_only=False)
    with pytest.raises(WorkflowError) as raised:
        one_counted(tmp_path).run(progress=False)
    assert raised.value.result.failed == ["n"]
    assert not (tmp_path / "calls.txt").exists(), "the node must not run unlocked"
    crash = read_crash(raised.value.failed[0].crash_file)
    node_dir = tmp_path / "work" / "nolocks" / "n"
    assert crash["error_type"] == LocksRefused.__name__
    assert crash["error"].startswith(f"the file system of {node_dir} refuses file locks ({errno.errorcode[code]}")
    assert "put base_dir on a file system with locks" in crash["error"] and "rpc.statd" in crash["error"]
