"""The plan: fused chains and grouped siblings make few Ruffus tasks."""

from __future__ import annotations

from pathlib import Path

from flowmill.workflow.build import build_graph
from flowmill.testing._workflows import chain, diamond, fan_out, nested
from flowmill_ruffus._plan import plan

from ._workflows import grouped_failure


def stages_of(wf, tmp_path: Path):
    return plan(build_graph(wf, tmp_path / wf.name, "content"))


def test_fan_out_is_two_tasks(tmp_path: Path) -> None:
    root, leaves = stages_of(fan_out(tmp_path, 50), tmp_path)
    assert root.units == (("root",),) and root.after == ()
    assert leaves.units == tuple((f"leaf{i}",) for i in range(50)) and leaves.after == (0,)
    assert leaves.name == "leaf0 (+49 more)"


def test_chain_is_one_job(tmp_path: Path) -> None:
    (only,) = stages_of(chain(tmp_path, 20), tmp_path)
    assert only.units == (tuple(f"n{i}" for i in range(20)),)
    assert only.name == "n0 -> n1 -> n2 -> n3 -> n4 -> n5 -> n6 -> n7 -> n8 -> n9 -> n10 -> n11 -> n12 -> " \
                        "n13 -> n14 -> n15 -> n16 -> n17 -> n18 -> n19"


def test_diamond_is_three_tasks(tmp_path: Path) -> None:
    top, middle, bottom = stages_of(diamond(tmp_path), tmp_path)
    assert middle.units == (("left",), ("right",)) and middle.after == (0,)
    assert bottom.units == (("bottom",),) and bottom.parents == (("left", "right"),) and bottom.after == (1,)


def test_leaf_chains_and_independent_chains(tmp_path: Path) -> None:
    stages = stages_of(grouped_failure(tmp_path), tmp_path)
    units = {unit: stage.index for stage in stages for unit in stage.units}
    assert units[("first", "mid", "bad", "after", "last")] == units[("root",)]
    leaves = units[("leaf0", "tail0")]
    assert all(units[(f"leaf{i}", f"tail{i}")] == leaves for i in range(4))
    assert stages[leaves].after == (units[("root",)],)
    assert len(stages) == 2


def test_nested_workflow_is_one_chain(tmp_path: Path) -> None:
    (only,) = stages_of(nested(tmp_path), tmp_path)
    assert only.units == (("pre", "inner.first", "inner.second", "post"),)
