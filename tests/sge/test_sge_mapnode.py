"""A MapNode's elements go out as one Grid Engine job array (runBulkJobs), each task
running its own element in the element's directory."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import MapNode, Workflow

from ..fixtures.sge import recorded_jobs, sge_command, wait_until_gone

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


def test_graph_mode_holds_a_chained_array_element_by_element(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    """A MapNode fed by another's list: one array each, the second held on the first
    task by task (-hold_jid_ad) instead of on the whole array."""
    wf = Workflow("chained_arrays", base_dir=tmp_path)
    mapped = MapNode(where_am_i, name="mapped", iterfield=["item"])
    mapped.inputs.item = [1, 2, 3]
    again = MapNode(where_am_i, name="again", iterfield=["item"])
    wf.connect(mapped, "out", again, "item")
    res = wf.run(plugin="sge", graph=True, wait=False, qsub_args="-h", **sge_run_options)
    first, second = (json.loads((tmp_path / "chained_arrays" / node / "_map" / str(i) / "sge_job.json").read_text())
                     ["sge_job_id"].split(".")[0] for node, i in (("mapped", 0), ("again", 2)))
    try:
        assert len(res.pending) == 8
        assert all(json.loads((tmp_path / "chained_arrays/again/_map" / str(i) / "sge_job.json").read_text())
                   ["sge_job_id"].split(".")[0] == second for i in range(3))
        details = sge_command("qstat", "-j", second).stdout
        assert re.search(rf"ja_ad_predecessor_list:\s+{first}\b", details), details
        assert not re.search(rf"^jid_predecessor_list:.*\b{first}\b", details, re.M), details
    finally:
        sge_command("qdel", *recorded_jobs(tmp_path / "chained_arrays"))


def tenfold_but_two(item: int) -> int:
    if item == 2:
        raise ValueError("element 2 fails on purpose")
    return item * 10


def plus_one(item: int) -> int:
    return item + 1


def chained_with_a_failing_element(base: Path) -> Workflow:
    wf = Workflow("chained_failure", base_dir=base)
    mapped = MapNode(tenfold_but_two, name="mapped", iterfield=["item"])
    mapped.inputs.item = [1, 2, 3]
    again = MapNode(plus_one, name="again", iterfield=["item"])
    wf.connect(mapped, "out", again, "item")
    return wf


def test_graph_mode_a_failed_element_blocks_only_its_own_chained_element(tmp_path: Path,
                                                                          sge_run_options: dict[str, Any]) -> None:
    """The element held task by task on a failed upstream element refuses to run and
    says so (its launcher used to lack its token and died with an AttributeError, and
    was then counted lost instead of skipped); the other elements run. Without the
    driver (``wait=False``) nothing but the launcher decides, so this is what it did."""
    wf = chained_with_a_failing_element(tmp_path)
    res = wf.run(plugin="sge", graph=True, wait=False, **sge_run_options)
    assert len(res.pending) == 8
    node = tmp_path / "chained_failure"
    assert wait_until_gone(recorded_jobs(node), 60) == []
    blocked = node / "again" / "_map" / "1"
    assert (blocked / "sge_blocked").read_text() == res.run_id
    stderr = (blocked / "sge.stderr").read_text()
    assert "not running" in stderr and "Traceback" not in stderr
    assert not (blocked / "result.pkl").exists()
    with pytest.raises(flowmill.WorkflowError) as info:
        chained_with_a_failing_element(tmp_path).run(plugin="sge", graph=True, **sge_run_options)
    again = info.value.result
    assert again.failed == ["mapped#1"]
    assert sorted(again.skipped) == ["again", "again#1", "mapped"]
    assert sorted(again.cached) == ["again#0", "again#2", "mapped#0", "mapped#2"]
