"""The record of a scheduler job in flight (``flowmill.backend.write_record``): a
later run adopts it only while the node still computes the same thing."""

from __future__ import annotations

from pathlib import Path

import flowmill.backend as api
from flowmill.workflow.task import FunctionTask


def add(x: int, y: int) -> int:
    return x + y


def job(tmp_path: Path, x: int) -> api.Job:
    made = api.Job("add", tmp_path / "add", FunctionTask(add, ["out"]), {"x": x, "y": 1}, {})
    made.dir.mkdir(exist_ok=True)
    return made


def test_a_record_is_adopted_by_the_same_computation(tmp_path: Path) -> None:
    api.write_record(job(tmp_path, 1), "batch_job.json", {"batch_id": "42", "token": "run-1"})
    record = api.matching_record(job(tmp_path, 1), "batch_job.json")
    assert record is not None and record["batch_id"] == "42" and record["token"] == "run-1"


def test_an_edited_node_drops_the_record(tmp_path: Path) -> None:
    api.write_record(job(tmp_path, 1), "batch_job.json", {"batch_id": "42"})
    assert api.matching_record(job(tmp_path, 2), "batch_job.json") is None
    assert not (tmp_path / "add" / "batch_job.json").exists()


def test_a_torn_record_is_dropped_and_a_missing_one_is_none(tmp_path: Path) -> None:
    edited = job(tmp_path, 1)
    (edited.dir / "batch_job.json").write_text("{not json")
    assert api.matching_record(edited, "batch_job.json") is None
    assert not (edited.dir / "batch_job.json").exists()
    assert api.matching_record(edited, "batch_job.json") is None
    api.remove_record(edited.dir, "batch_job.json")
