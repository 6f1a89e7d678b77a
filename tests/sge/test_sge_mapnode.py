"""A MapNode's elements go out as one Grid Engine job array (runBulkJobs), each task
running its own element in the element's directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from flowmill import MapNode, Workflow

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


def where_am_i(item: int) -> tuple[int, str, str, str]:
    return item, os.environ["JOB_ID"], os.environ["SGE_TASK_ID"], os.getcwd()


def test_map_elements_run_as_one_array(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("arrays", base_dir=tmp_path)
    mapped = MapNode(where_am_i, name="mapped", iterfield=["item"])
    mapped.inputs.item = [10, 11, 12, 13, 14]
    wf.add_nodes([mapped])
    res = wf.run(plugin="sge", **sge_run_options)
    seen = res["mapped"].out
    assert [item for item, _, _, _ in seen] == [10, 11, 12, 13, 14]
    assert len({job for _, job, _, _ in seen}) == 1
    assert sorted(int(task) for _, _, task, _ in seen) == [1, 2, 3, 4, 5]
    element_dirs = [Path(cwd) for _, _, _, cwd in seen]
    assert element_dirs == [tmp_path / "arrays" / "mapped" / "_map" / str(i) for i in range(5)]
    assert all((folder / "sge.stderr").is_file() for folder in element_dirs)


def test_graph_mode_holds_arrays_on_their_parents(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("graph_arrays", base_dir=tmp_path)
    mapped = MapNode(where_am_i, name="mapped", iterfield=["item"])
    mapped.inputs.item = [1, 2, 3]
    again = MapNode(where_am_i, name="again", iterfield=["item"])
    wf.connect(mapped, "out", again, "item")
    res = wf.run(plugin="sge", graph=True, **sge_run_options)
    first, second = res["mapped"].out, res["again"].out
    assert len({job for _, job, _, _ in first}) == 1
    assert [item for item, _, _, _ in second] == first
