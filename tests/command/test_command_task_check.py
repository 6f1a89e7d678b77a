"""The core calls a task's optional ``prepare(inputs)`` and ``check(inputs)`` while it
builds the jobs, so a task normalises its static inputs before they are hashed and a
problem it can see up front stops the run before any node runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pytest

from flowmill import Node, ValidationError, Workflow
from flowmill import MANDATORY


class Checked:
    """A task whose ``prepare`` scales ``y`` by ten and whose ``check`` refuses a
    negative ``x`` and records what it was shown."""

    output_names = ("out",)

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def input_defaults(self) -> Mapping[str, Any]:
        return {"x": MANDATORY, "y": 1}

    def digest(self) -> str:
        return "checked-v1"

    def prepare(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {**inputs, "y": inputs["y"] * 10}

    def check(self, inputs: Mapping[str, Any]) -> None:
        self.seen.append(dict(inputs))
        if inputs.get("x", 0) < 0:
            raise ValidationError(f"x must not be negative, got {inputs['x']}")

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        return {"out": inputs["x"] + inputs["y"]}

    def describe(self) -> str:
        return "checked task"


def one(x: int) -> int:
    return x


def test_check_failure_names_the_node_and_nothing_runs(tmp_path: Path) -> None:
    wf = Workflow("checked", base_dir=tmp_path)
    first = Node(one, name="first")
    first.inputs.x = 1
    bad = Node(Checked(), name="bad")
    bad.inputs.x = -3
    wf.add_nodes([first, bad])
    with pytest.raises(ValidationError, match=r"node 'bad': x must not be negative, got -3"):
        wf.run()
    assert not (tmp_path / "checked").exists()


def test_prepare_and_check_see_static_inputs_but_not_connected_ones(tmp_path: Path) -> None:
    task = Checked()
    wf = Workflow("checked", base_dir=tmp_path)
    src = Node(one, name="src")
    src.inputs.x = 5
    dst = Node(task, name="dst")
    wf.connect(src, "out", dst, "x")
    assert wf.run()["dst"].out == 15
    assert task.seen == [{"y": 10}]
