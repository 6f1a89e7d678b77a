"""The same command pipelines on every bundled backend (the ``backend`` fixture): the
tools run where the backend runs jobs, and everything they leave is read back from the
shared result store."""

from __future__ import annotations

import dataclasses

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowmill import (CommandNode, CommandTask, File, MapNode, PluginError, Workflow, WorkflowError,
                      installed_backends)
from flowmill.workflow.build import build_graph
from flowmill.store.results import read_outputs

from .pipeline import PER_SUBJECT, build, expected_manifest, failing_gunzip, make_inputs, process_alive


def test_pipeline_runs_caches_and_reruns_only_what_a_changed_file_reaches(backend, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    first = backend.run(build(tmp_path / "work", inputs))
    assert sorted(first.executed) == sorted([*PER_SUBJECT, "manifest"])
    assert first["manifest"].out_file.read_text() == expected_manifest(tmp_path / "work", inputs)
    assert backend.run(build(tmp_path / "work", inputs)).executed == []
    inputs["b"].write_text("subject b, scanned again\n")
    again = backend.run(build(tmp_path / "work", inputs))
    assert sorted(again.executed) == ["gzip_b", "manifest", "sum_b"]
    assert again["manifest"].out_file.read_text() == expected_manifest(tmp_path / "work", inputs)


def test_failures_are_reported_from_where_the_tool_ran(backend, tmp_path: Path) -> None:
    gunzip, plain = failing_gunzip(tmp_path)
    wf = Workflow("failing", base_dir=tmp_path / "work")
    slow = CommandNode(["sleep", "30"], name="slow", timeout=1)
    good = CommandNode(["sha256sum", "{in_file}"], name="good", inputs={"in_file": File}, outputs={"o": "o"},
                       stdout="o")
    good.inputs.in_file = plain
    wf.add_nodes([gunzip, slow, good])
    with pytest.raises(WorkflowError) as info:
        backend.run(wf)
    assert sorted(info.value.result.failed) == ["gunzip", "slow"]
    assert info.value.result["good"].o.read_text().endswith(f"  {plain}\n")
    crash = json.loads((tmp_path / "work/failing/gunzip/crash.json").read_text())
    assert crash["error_type"] == "CommandFailed"
    assert f"command exited with status 1: gzip -d -c {plain}" in crash["error"] and "not in gzip format" in crash["error"]
    timeout = json.loads((tmp_path / "work/failing/slow/crash.json").read_text())
    assert timeout["error_type"] == "CommandTimeout" and "timed out after 1s" in timeout["error"]


def test_mapnode_of_a_command(backend, tmp_path: Path) -> None:
    files = list(make_inputs(tmp_path / "in").values())
    wf = Workflow("mapped", base_dir=tmp_path / "work")
    count = MapNode(CommandTask(["wc", "-l", "{in_file}"], inputs={"in_file": File}, outputs={"n": "lines.txt"},
                                stdout="n"), name="count", iterfield="in_file")
    count.inputs.in_file = files
    wf.add_nodes([count])
    res = backend.run(wf)
    assert [n.read_text() for n in res["count"].n] == [f"1000 {path}\n" for path in files]


def test_a_pickled_job_runs_in_the_worker_process(tmp_path: Path) -> None:
    """What batch backends do: the job file travels, ``python -m flowmill.worker`` runs it."""
    inputs = make_inputs(tmp_path / "in")
    graph = build_graph(build(tmp_path / "work", inputs), tmp_path / "work" / "tools", "content")
    job = graph.jobs["gzip_a"]
    job.write()
    done = subprocess.run(job.command(sys.executable), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    archive = read_outputs(job.dir)["out_file"]
    assert isinstance(archive, File) and archive == tmp_path / "work/tools/gzip_a/a.txt.gz"
    assert gzip.decompress(archive.read_bytes()) == inputs["a"].read_bytes()
    assert (job.dir / "command.txt").read_text() == f"gzip -n -6 -c {inputs['a']}\n"


def test_a_job_stopped_by_the_run_timeout_takes_its_tool_along(backend, tmp_path: Path) -> None:
    """The run option ``timeout`` stops a whole job on the backends that can; the tool
    and what it started must not outlive it."""
    pid_file = tmp_path / "tool.pid"
    wf = Workflow("stopped", base_dir=tmp_path / "work")
    wf.add_nodes([CommandNode(f"sleep 120 & echo $! > {pid_file}; wait", name="stuck", shell=True)])
    declared = installed_backends()[backend.name][0]
    own = {f.name for f in dataclasses.fields(declared.options)}
    capabilities = declared.capabilities_for(declared.options(**{k: v for k, v in backend.options.items() if k in own}))
    if capabilities.timeouts == "none":
        with pytest.raises(PluginError, match="does not support the timeout option"):
            backend.run(wf, timeout=2)
        return
    with pytest.raises(WorkflowError, match="timed out"):
        backend.run(wf, timeout=2)
    deadline = time.monotonic() + 15
    while process_alive(int(pid_file.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(int(pid_file.read_text())), "the tool outlived its stopped job"
