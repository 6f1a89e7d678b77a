"""A node calling sys.exit on an engine is that node's failure, said as such, not a
hint at an installation problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmill import Node, Workflow, WorkflowError

from ..ruffus._workflows import leave

pytestmark = pytest.mark.ipython


def test_sys_exit_on_an_engine_is_the_nodes_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython-dir"))
    wf = Workflow("leaving", base_dir=tmp_path)
    node = Node(leave, name="leave")
    node.inputs.x = 1
    node.inputs.tally = str(tmp_path / "tally.txt")
    wf.add_nodes([node])
    with pytest.raises(WorkflowError) as info:
        wf.run(plugin="ipython", n_engines=1, retries=1)
    [failed] = info.value.failed
    assert failed.error == "SystemExit: the node called sys.exit(3)"
    assert "installed" not in failed.error
    assert len((tmp_path / "tally.txt").read_text().splitlines()) == 1
