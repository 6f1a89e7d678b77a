"""Run records: each run appends what every node did, measured where the job ran, to
``<workflow_dir>/.flowmill/runs/``."""

from __future__ import annotations

import socket
import time

import pytest

import flowmill
from flowmill import CommandNode, Node, Workflow, WorkflowError
from flowmill.store.results import read_header
from flowmill.store.runs import find_record, read_record, record_paths

from .plugin_examples import ExamplePlugin


def burn(x: int) -> int:
    """About 0.2 s of CPU and 64 MiB held at once."""
    block = bytearray(64 * 1024 * 1024)
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    return x + len(block) // len(block)


def fail(x: int) -> int:
    raise ValueError(f"no {x}")


def inc(x: int) -> int:
    return x + 1


def pipeline(tmp_path, first=burn) -> Workflow:
    wf = Workflow("rec", base_dir=tmp_path)
    a = Node(first, name="a")
    a.inputs.x = 1
    b = Node(inc, name="b")
    wf.connect(a, "out", b, "x")
    return wf


def test_a_run_records_each_node_with_the_workers_figures(tmp_path):
    before = time.time()
    res = pipeline(tmp_path).run(plugin="linear")
    record = read_record(find_record(res.workflow_dir))
    assert record.run["run"] == res.run_id and record.run["backend"] == "linear"
    assert record.run["options"]["retries"] == 0 and record.run["n_jobs"] == 2
    a = record.nodes["a"]
    assert a["state"] == "ran" and a["attempts"] == 1 and a["exit"] == 0
    assert a["host"] == socket.gethostname() and isinstance(a["pid"], int)
    header = read_header(tmp_path / "rec" / "a")
    assert a["key"] == header["hash"] and a["started"] == header["started"] and a["ended"] == header["ended"]
    assert before <= a["queued"] <= a["started"] <= a["ended"]
    assert a["cpu_s"] >= 0.15
    assert a["max_rss_kib"] >= 64 * 1024
    assert record.end is not None and record.end["counts"]["ran"] == 2


def test_a_rerun_appends_a_new_record_of_cached_nodes(tmp_path):
    first = pipeline(tmp_path, first=inc).run()
    second = pipeline(tmp_path, first=inc).run()
    paths = record_paths(first.workflow_dir)
    assert len(paths) == 2 and paths[-1].stem.endswith(second.run_id)
    assert read_record(paths[-1]).nodes == {"a": {"node": "a", "state": "cached"},
                                            "b": {"node": "b", "state": "cached"}}
    assert find_record(first.workflow_dir, first.run_id) == paths[0]


def test_failed_and_skipped_nodes_are_recorded_with_the_crash(tmp_path):
    with pytest.raises(WorkflowError) as caught:
        pipeline(tmp_path, first=fail).run()
    record = read_record(find_record(caught.value.result.workflow_dir))
    a = record.nodes["a"]
    assert a["state"] == "failed" and a["exit"] == "ValueError" and a["error"] == "ValueError: no 1"
    assert a["crash_file"] == str(tmp_path / "rec" / "a" / "crash.json")
    assert a["host"] == socket.gethostname() and a["started"] <= a["ended"] and a["cpu_s"] >= 0
    assert record.nodes["b"] == {"node": "b", "state": "skipped", "attempts": 1, "queued": None, "because": "a"}


def test_a_failed_command_records_its_exit_status(tmp_path):
    wf = Workflow("cmd", base_dir=tmp_path)
    wf.add_nodes([CommandNode("exit 3", name="c", shell=True)])
    with pytest.raises(WorkflowError) as caught:
        wf.run()
    assert read_record(find_record(caught.value.result.workflow_dir)).nodes["c"]["exit"] == 3


def test_attempts_count_the_retries(tmp_path):
    example = ExamplePlugin()
    flowmill.register(example)
    try:
        res = pipeline(tmp_path, first=inc).run(plugin="pool", lose_first=1, retries=2)
    finally:
        flowmill.unregister(example)
    record = read_record(find_record(res.workflow_dir))
    assert record.run["backend"] == "pool" and record.run["backend_options"]["lose_first"] == 1
    assert record.nodes["a"]["attempts"] == 2 and record.nodes["b"]["attempts"] == 1


def interrupt(x: int) -> int:
    raise KeyboardInterrupt


def test_an_interrupted_run_ends_its_record(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        pipeline(tmp_path, first=interrupt).run()
    record = read_record(record_paths(tmp_path / "rec")[-1])
    assert record.end is not None and record.end["aborted"] == "KeyboardInterrupt: "


def test_a_workflow_dir_where_no_record_can_be_written_still_runs(tmp_path, caplog):
    (tmp_path / "rec" / ".flowmill").mkdir(parents=True)
    (tmp_path / "rec" / ".flowmill" / "runs").write_text("a file where the directory should be")
    res = pipeline(tmp_path, first=inc).run(progress=False)
    assert res.executed == ["a", "b"]
    failures = [r for r in caplog.records if "flowmill observer flowmill.records" in r.getMessage()]
    assert len(failures) == 1, "the failure to open the record is logged once, not once per node"
