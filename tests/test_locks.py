"""Drivers sharing a base_dir cooperate: started together on overlapping graphs, they
execute every node once (counted by the nodes' side effects) and both return the right
values; a node whose runner died mid-run is run again, with a warning naming it."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from flowmill import Node, Workflow

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


def test_a_node_whose_driver_died_running_it_runs_again_with_a_warning(tmp_path, caplog):
    script = tmp_path / "dies.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from tests.test_locks import build\n"
        f"build({str(tmp_path)!r}).run()\n")
    assert subprocess.run([sys.executable, str(script)]).returncode == 9
    with caplog.at_level(logging.WARNING, logger="flowmill"):
        res = build(tmp_path).run()
    assert res["n"].out == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(re.fullmatch(r"node n: pid \d+ on \S+ \(run \w+\) died while running it; it runs again", warning)
               for warning in warnings), warnings
    assert [p.name for p in (tmp_path / "dies/n").iterdir() if p.name.startswith(".")] == []


def build(base_dir: str | Path) -> Workflow:
    wf = Workflow("dies", base_dir=base_dir)
    node = Node(die_once, name="n")
    node.inputs.x, node.inputs.marker = 1, str(Path(base_dir) / "died")
    wf.add_nodes([node])
    return wf
