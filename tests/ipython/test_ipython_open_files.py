"""A temporary cluster that cannot start under a tiny open-files limit gets a flowmill
message with the fix, not ipyparallel's raw timeout, and leaves nothing running."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ..driver_death import REPO, alive_processes

pytestmark = pytest.mark.ipython

DRIVER = """
import sys
from flowmill import Node, Workflow
from tests.killed_driver import sleeper
wf = Workflow("files", base_dir=sys.argv[1])
node = Node(sleeper, name="s")
node.inputs.index = 0
node.inputs.base = sys.argv[1]
wf.add_nodes([node])
wf.run(plugin="ipython", n_engines=1, engine_timeout=20)
"""


def test_a_tiny_open_files_limit_is_named_with_its_fix(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env={"IPYTHONDIR": str(tmp_path / "ipython-dir"), "TMPDIR": str(temp),
                                            "PATH": "/usr/bin:/bin"},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32)))
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("flowmill._errors.PluginError: ipython backend: the temporary local cluster"), last
    assert "ulimit -n 1024" in last
    assert alive_processes([], str(temp)) == [] and not list(temp.glob("flowmill-ipython-*"))
