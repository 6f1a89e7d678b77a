"""A node's traceback names the user's file and line on backends that pickle jobs
(cloudpickle renames the code of functions shipped by value to ``<dynamic-code>``),
and such a job computes the same cache key where it runs as the driver would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
import flowmill
from flowmill import Node, Workflow, WorkflowError
from tests.plugin_examples import ExamplePlugin

def helper(x):
    if x < 0:
        raise ValueError(f"negative {x}")
    return x + 1

def step(x: int) -> int:
    return helper(x)

flowmill.register(ExamplePlugin())
options = json.loads(sys.argv[3])
wf = Workflow("tb", base_dir=sys.argv[1])
a = Node(step, name="a"); a.inputs.x = int(sys.argv[2])
b = Node(step, name="b")
wf.connect(a, "out", b, "x")
try:
    res = wf.run(progress=False, **options)
    print(json.dumps({"ran": res.executed, "cached": res.cached}))
except WorkflowError as exc:
    print(json.dumps({"traceback": json.load(open(exc.failed[0].crash_file))["traceback"]}))
"""

BACKENDS = {"ruffus": {"plugin": "ruffus", "n_procs": 2, "mode": "multiprocess"},
            "pickpool": {"plugin": "pickpool"}}


def run_script(tmp_path: Path, x: int, options: dict) -> dict:
    script = tmp_path / "pipeline.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path), str(x), json.dumps(options)],
                          capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO),
                                                                             "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_traceback_names_the_script_and_its_lines(tmp_path, backend):
    traceback = run_script(tmp_path, -1, BACKENDS[backend])["traceback"]
    script = tmp_path / "pipeline.py"
    assert "<dynamic-code>" not in traceback
    assert f'File "{script}", line 13, in step\n    return helper(x)' in traceback
    assert f'File "{script}", line 9, in helper\n    raise ValueError(f"negative {{x}}")' in traceback


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_keys_computed_where_the_job_runs_match_the_drivers(tmp_path, backend):
    assert run_script(tmp_path, 1, BACKENDS[backend]) == {"ran": ["a", "b"], "cached": []}
    assert sorted(run_script(tmp_path, 1, BACKENDS[backend])["cached"]) == ["a", "b"]


@pytest.mark.ipython
def test_the_traceback_names_the_script_on_the_ipython_backend(tmp_path, ipython_run_options):
    traceback = run_script(tmp_path, -1, {"plugin": "ipython", **ipython_run_options})["traceback"]
    assert "<dynamic-code>" not in traceback
    assert f'File "{tmp_path / "pipeline.py"}", line 9, in helper' in traceback
