"""nipype users' idioms that flowmill accepts as nipype does (issue 16): each test
is a habit a nipype user brings, in the form they would write it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmill import Node, ValidationError, Workflow, WorkflowError


def inc(x: int) -> int:
    return x + 1


def explode(x: int) -> int:
    raise ValueError("on purpose")


def one_node(func=inc, name: str = "n", base_dir: Path | None = None) -> Workflow:
    wf = Workflow("idioms", base_dir=base_dir)
    node = Node(func, name=name)
    node.inputs.x = 1
    wf.add_nodes([node])
    return wf


def test_base_dir_assigned_as_a_str_after_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    wf = one_node()
    wf.base_dir = "work"
    assert wf.base_dir == Path("work")
    assert wf.run()["n"].out == 2
    assert (tmp_path / "work" / "idioms" / "n" / "result.pkl").is_file()


def test_a_graph_mistake_is_a_value_error() -> None:
    wf = Workflow("idioms")
    with pytest.raises(ValueError, match="has no input 'y'"):
        wf.connect(Node(inc, name="a"), "out", Node(inc, name="b"), "y")
    assert issubclass(ValidationError, ValueError)


def test_failed_nodes_are_a_runtime_error(tmp_path: Path) -> None:
    wf = one_node(explode, base_dir=tmp_path)
    with pytest.raises(RuntimeError, match="1 node\\(s\\) failed"):
        wf.run()
    assert issubclass(WorkflowError, RuntimeError)
