"""A MapNode's elements go out as one Slurm job array, each task running its own
element in the element's directory; in graph mode a chained MapNode waits on its
upstream array element by element (aftercorr)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import MapNode, Workflow

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_no_leftovers")]


def where_am_i(item: int) -> tuple[int, str, str, str]:
    return item, os.environ["SLURM_ARRAY_JOB_ID"], os.environ["SLURM_ARRAY_TASK_ID"], os.getcwd()


def slow_unless_one(item: int) -> int:
    """Element 1 fails at once; the others take a while."""
    if item == 1:
        raise ValueError("element 1 fails on purpose")
    time.sleep(4)
    return item


def started_at(item: int) -> float:
    return time.time()


def script_line(tmp_path: Path, *parts: str) -> str:
    return tmp_path.joinpath(*parts, "slurm_job.py").read_text().splitlines()[1]


@pytest.mark.parametrize("graph", [False, True], ids=["job-level", "graph"])
def test_map_elements_run_as_one_array(tmp_path: Path, slurm_run_options: dict[str, Any], graph: bool) -> None:
    wf = Workflow("arrays", base_dir=tmp_path)
    mapped = MapNode(where_am_i, name="mapped", iterfield=["item"])
    mapped.inputs.item = [10, 11, 12, 13, 14]
    wf.add_nodes([mapped])
    res = wf.run(plugin="slurm", graph=graph, **slurm_run_options)
    seen = res["mapped"].out
    assert [item for item, _, _, _ in seen] == [10, 11, 12, 13, 14]
    assert len({job for _, job, _, _ in seen}) == 1
    assert [int(task) for _, _, task, _ in seen] == [0, 1, 2, 3, 4]
    element_dirs = [Path(cwd) for _, _, _, cwd in seen]
    assert element_dirs == [tmp_path / "arrays" / "mapped" / "_map" / str(i) for i in range(5)]
    assert all((folder / "slurm.out").is_file() for folder in element_dirs)


def test_max_jobs_throttles_the_array(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    wf = Workflow("throttled", base_dir=tmp_path)
    mapped = MapNode(started_at, name="mapped", iterfield=["item"])
    mapped.inputs.item = [1, 2, 3, 4]
    wf.add_nodes([mapped])
    wf.run(plugin="slurm", max_jobs=2, **slurm_run_options)
    assert "--array=0-3%2" in script_line(tmp_path, "throttled", "mapped", "_map", "0")


def test_graph_mode_chains_arrays_element_by_element(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    """The second array waits with aftercorr: element 1 failing skips only element 1
    downstream, and the others run as soon as their own upstream element is done."""
    wf = Workflow("chained", base_dir=tmp_path)
    mapped = MapNode(slow_unless_one, name="mapped", iterfield=["item"])
    mapped.inputs.item = [0, 1, 2]
    again = MapNode(where_am_i, name="again", iterfield=["item"])
    wf.connect(mapped, "out", again, "item")
    with pytest.raises(flowmill.WorkflowError) as info:
        wf.run(plugin="slurm", graph=True, **slurm_run_options)
    res = info.value.result
    assert "mapped#1" in res.failed and "again#1" in res.skipped
    assert {"again#0", "again#2"}.isdisjoint(res.skipped) and {"again#0", "again#2"}.isdisjoint(res.failed)
    line = script_line(tmp_path, "chained", "again", "_map", "0")
    upstream = script_line(tmp_path, "chained", "mapped", "_map", "0")
    assert "--array=0-2" in line and "--array=0-2" in upstream
    assert "--dependency=aftercorr:" in line
    assert not (tmp_path / "chained" / "again" / "_map" / "1" / "result.pkl").exists()
    assert all((tmp_path / "chained" / "again" / "_map" / str(i) / "result.pkl").exists() for i in (0, 2))
