"""What users write on the command line of qsub reaches their jobs: qsub_args, a node's
own plugin_args (extend or overwrite), typed resources, a dry run, and clear errors
for what Grid Engine refuses or cannot be reached."""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from tests.fixtures.sge import Leftovers

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


def job_view(names: list[str]) -> dict[str, Any]:
    """What a job sees of its environment and limits."""
    return {"env": {name: os.environ.get(name) for name in names},
            "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
            "cwd": os.getcwd()}


def viewer(name: str, names: list[str]) -> Node:
    node = Node(job_view, name=name)
    node.inputs.names = names
    return node


def test_qsub_args_reach_the_job(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("qsub_args", base_dir=tmp_path)
    wf.add_nodes([viewer("look", ["FLOWMILL_VAR", "QUEUE", "JOB_ID"])])
    res = wf.run(plugin="sge", qsub_args="-v FLOWMILL_VAR=x -q all.q", **sge_run_options)
    seen = res["look"].out
    assert seen["env"]["FLOWMILL_VAR"] == "x"
    assert seen["env"]["QUEUE"] == "all.q"
    assert seen["env"]["JOB_ID"].isdigit()
    assert seen["cwd"] == str(tmp_path / "qsub_args" / "look")
    assert (tmp_path / "qsub_args" / "look" / "sge.stdout").is_file()


def test_node_plugin_args_extend_or_overwrite(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("per_node", base_dir=tmp_path)
    names = ["RUN_VAR", "NODE_VAR"]
    plain, extended, replaced = viewer("plain", names), viewer("extended", names), viewer("replaced", names)
    extended.plugin_args = {"qsub_args": "-v NODE_VAR=ext"}
    replaced.plugin_args = {"qsub_args": "-v NODE_VAR=own", "overwrite": True}
    wf.add_nodes([plain, extended, replaced])
    res = wf.run(plugin="sge", qsub_args="-v RUN_VAR=run", **sge_run_options)
    assert res["plain"].out["env"] == {"RUN_VAR": "run", "NODE_VAR": None}
    assert res["extended"].out["env"] == {"RUN_VAR": "run", "NODE_VAR": "ext"}
    assert res["replaced"].out["env"] == {"RUN_VAR": None, "NODE_VAR": "own"}


def test_resources_become_pe_and_limits(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    wf = Workflow("resources", base_dir=tmp_path)
    sized, capped = viewer("sized", ["NSLOTS", "PE"]), viewer("capped", ["NSLOTS"])
    sized.resources = {"cpus": 2, "mem_gb": 2, "walltime": "00:10:00"}
    capped.resources = {"mem_gb": 2}
    capped.plugin_args = {"qsub_args": "-l h_vmem=3G"}
    wf.add_nodes([sized, capped])
    res = wf.run(plugin="sge", **sge_run_options)
    assert res["sized"].out["env"] == {"NSLOTS": "2", "PE": "smp"}
    # h_vmem is per slot: 1 GiB for each of the 2 slots.
    assert res["sized"].out["address_space"] == 2 * 1024 ** 3
    assert res["capped"].out["address_space"] == 3 * 1024 ** 3  # the raw qsub_args win


def test_dry_run_prints_spec_and_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = Workflow("dry", base_dir=tmp_path)
    first = viewer("first", [])
    second = Node(len, name="second")
    first.resources = {"cpus": 4, "walltime": "01:00:00"}
    wf.connect(first, "out", second, "obj")
    res = wf.run(plugin="sge", graph=True, dry_run=True, qsub_args="-q all.q -l h_rt=0:30:0")
    printed = capsys.readouterr().out
    assert "native specification: -b y -pe smp 4 -q all.q -l h_rt=0:30:0\n" in printed
    assert "native specification: -b y -q all.q -l h_rt=0:30:0 -hold_jid fm.first\n" in printed
    assert f"-m flowmill_sge.launch --env {tmp_path / 'dry'}/.sge-env-" in printed
    assert f"--grace 10 --token {res.run_id} --after {res.run_id} {tmp_path / 'dry' / 'first'} -- " in printed
    assert f" -- {tmp_path / 'dry' / 'first' / 'job.pkl'} --failed-exit 12\n" in printed
    assert sorted(res.pending) == ["first", "second"]
    assert not (tmp_path / "dry" / "first" / "job.pkl").exists()


@pytest.mark.parametrize("graph", [False, True])
def test_unknown_queue_is_refused_before_anything_runs(tmp_path: Path, sge_run_options: dict[str, Any],
                                                       graph: bool) -> None:
    wf = Workflow("badqueue", base_dir=tmp_path)
    wf.add_nodes([viewer("a", [])])
    with pytest.raises(flowmill.PluginError, match=r"qsub_args='-q nosuch\.q'.*unknown queue") as info:
        wf.run(plugin="sge", qsub_args="-q nosuch.q", graph=graph, **sge_run_options)
    assert "Nothing was submitted" in str(info.value)
    assert not (tmp_path / "badqueue" / "a" / "job.pkl").exists()


@pytest.mark.parametrize("graph", [False, True])
def test_node_with_unknown_queue_is_named(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool,
                                          sge_no_leftovers: Leftovers) -> None:
    wf = Workflow("badnode", base_dir=tmp_path)
    good, bad = viewer("good", []), viewer("bad", [])
    bad.plugin_args = {"qsub_args": "-q nosuch.q"}
    wf.connect(good, "out", bad, "names")
    with pytest.raises(flowmill.PluginError) as info:
        wf.run(plugin="sge", graph=graph, **sge_run_options)
    for part in ("node 'bad'", "unknown queue", "qsub_args='-q nosuch.q'"):
        assert part in str(info.value)
    assert not (tmp_path / "badnode" / "bad" / "result.pkl").exists()
    assert sge_no_leftovers.now() == []


def test_missing_library_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRMAA_LIBRARY_PATH", str(tmp_path / "libdrmaa.so"))
    wf = Workflow("nolib", base_dir=tmp_path)
    wf.add_nodes([viewer("a", [])])
    with pytest.raises(flowmill.PluginError, match="DRMAA_LIBRARY_PATH=.* does not exist"):
        wf.run(plugin="sge")
    assert not (tmp_path / "nolib" / "a" / "job.pkl").exists()


def test_unreachable_qmaster_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          sge_run_options: dict[str, Any]) -> None:
    monkeypatch.setenv("SGE_QMASTER_PORT", "1")
    wf = Workflow("nomaster", base_dir=tmp_path)
    wf.add_nodes([viewer("a", [])])
    with pytest.raises(flowmill.PluginError, match="cannot open a DRMAA session.*sge_qmaster running"):
        wf.run(plugin="sge", scheduler_patience=1.0)
    assert not (tmp_path / "nomaster" / "a" / "job.pkl").exists()


def test_missing_cell_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGE_CELL", "nosuchcell")
    wf = Workflow("nocell", base_dir=tmp_path)
    wf.add_nodes([viewer("a", [])])
    with pytest.raises(flowmill.PluginError, match="no Grid Engine cell.*SGE_CELL=nosuchcell"):
        wf.run(plugin="sge")


def test_wait_false_needs_graph(tmp_path: Path) -> None:
    wf = Workflow("nowait", base_dir=tmp_path)
    wf.add_nodes([viewer("a", [])])
    with pytest.raises(flowmill.PluginError, match="wait=False needs graph=True"):
        wf.run(plugin="sge", wait=False)
