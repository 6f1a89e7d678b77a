"""Graph mode: the whole graph queued at once with --dependency=afterok; a failing
node's dependants never run; ``wait=False`` leaves the jobs to Slurm and a later run
re-attaches to them; a dry run prints the exact sbatch lines."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from tests.fixtures.slurm import slurm_jobs, wait_until_no_jobs

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_no_leftovers")]


def step(x: int, log: str, fail: bool = False, pause: float = 0.0) -> int:
    """Adds one, after noting in ``log`` that it ran; fails on request."""
    with open(log, "a") as handle:
        handle.write(f"{x}\n")
    time.sleep(pause)
    if fail:
        raise RuntimeError("middle node fails on purpose")
    return x + 1


def chain(tmp_path: Path, fail: bool = False, pause: float = 0.0) -> Workflow:
    """a -> mid -> c -> d, and an independent e; each logs its runs in <name>.log."""
    wf = Workflow("graph", base_dir=tmp_path)
    nodes = {}
    for name in ("a", "mid", "c", "d", "e"):
        nodes[name] = made = Node(step, name=name)
        made.inputs.log = str(tmp_path / f"{name}.log")
        made.inputs.pause = pause
    nodes["a"].inputs.x = 1
    nodes["e"].inputs.x = 10
    nodes["mid"].inputs.fail = fail
    wf.connect([(nodes["a"], nodes["mid"], [("out", "x")]), (nodes["mid"], nodes["c"], [("out", "x")]),
                (nodes["c"], nodes["d"], [("out", "x")])])
    wf.add_nodes([nodes["e"]])
    return wf


def runs(tmp_path: Path, name: str) -> int:
    log = tmp_path / f"{name}.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def dependency(tmp_path: Path, name: str) -> str:
    """The --dependency of the node's sbatch line, from its batch script."""
    line = (tmp_path / "graph" / name / "slurm_job.py").read_text().splitlines()[1]
    return next((word.split("=", 1)[1] for word in line.split() if word.startswith("--dependency=")), "")


def test_dependants_of_a_failing_node_are_skipped_and_never_run(tmp_path: Path,
                                                                slurm_run_options: dict[str, Any]) -> None:
    with pytest.raises(flowmill.WorkflowError) as info:
        chain(tmp_path, fail=True).run(plugin="slurm", graph=True, **slurm_run_options)
    res = info.value.result
    assert res.failed == ["mid"]
    assert sorted(res.skipped) == ["c", "d"]
    assert res["e"].out == 11
    assert runs(tmp_path, "c") == 0 and runs(tmp_path, "d") == 0
    assert dependency(tmp_path, "mid").startswith("afterok:") and dependency(tmp_path, "e") == ""
    assert "--kill-on-invalid-dep=yes" in (tmp_path / "graph" / "c" / "slurm_job.py").read_text()


def test_wait_false_then_a_later_run_reattaches(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    started = time.monotonic()
    res = chain(tmp_path, pause=2.0).run(plugin="slurm", graph=True, wait=False, **slurm_run_options)
    assert time.monotonic() - started < 10
    assert sorted(res.pending) == ["a", "c", "d", "e", "mid"]
    assert len(slurm_jobs()) == 5
    records = {name: json.loads((tmp_path / "graph" / name / "slurm_job.json").read_text())["slurm_job_id"]
               for name in ("a", "mid", "c", "d", "e")}
    collected = chain(tmp_path, pause=2.0).run(plugin="slurm", graph=True, **slurm_run_options)
    assert collected["d"].out == 5 and collected["e"].out == 11
    assert collected.failed == [] and collected.executed == []
    assert {name: runs(tmp_path, name) for name in records} == dict.fromkeys(records, 1)
    assert not any((tmp_path / "graph" / name / "slurm_job.json").exists() for name in records)


def test_without_the_driver_slurm_stops_the_dependants_of_a_failure(tmp_path: Path,
                                                                    slurm_run_options: dict[str, Any]) -> None:
    res = chain(tmp_path, fail=True, pause=3.0).run(plugin="slurm", graph=True, wait=False, **slurm_run_options)
    assert len(res.pending) == 5, "a node that pauses 3 s ended before the driver left"
    assert wait_until_no_jobs(60) == []
    assert runs(tmp_path, "mid") == 1
    assert runs(tmp_path, "c") == 0 and runs(tmp_path, "d") == 0
    with pytest.raises(flowmill.WorkflowError) as info:
        chain(tmp_path, fail=True).run(plugin="slurm", graph=True, **slurm_run_options)
    assert info.value.result.failed == ["mid"]
    assert sorted(info.value.result.skipped) == ["c", "d"]
    assert runs(tmp_path, "mid") == 2


def test_an_edited_node_is_not_answered_by_its_old_job(tmp_path: Path, slurm_run_options: dict[str, Any]) -> None:
    chain(tmp_path, pause=3.0).run(plugin="slurm", graph=True, wait=False, **slurm_run_options)
    edited = chain(tmp_path, pause=3.0)
    edited.get_node("e").inputs.x = 20
    res = edited.run(plugin="slurm", graph=True, **slurm_run_options)
    assert res["e"].out == 21
    ran_with = (tmp_path / "e.log").read_text().split()
    # The old job either ran its own input before the new run rewrote the node's job
    # file, or ran the new job file (then the new job finds that result, under the
    # node's lock, and does not run again): never is x=10 the answer.
    assert ran_with[-1] == "20" and set(ran_with) <= {"10", "20"}, ran_with


@pytest.mark.parametrize("graph", [False, True], ids=["job-level", "graph"])
def test_dry_run_prints_the_sbatch_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], graph: bool) -> None:
    wf = chain(tmp_path)
    wf.get_node("c").plugin_args = {"sbatch_args": "--comment='two words'"}
    wf.get_node("d").resources = {"cpus": 2, "mem_gb": 1.5, "walltime": "00:10:00"}
    res = wf.run(plugin="slurm", graph=graph, dry_run=True, sbatch_args="-p debug")
    out = capsys.readouterr().out
    assert sorted(res.pending) == ["a", "c", "d", "e", "mid"]
    c_dir, d_dir = tmp_path / "graph" / "c", tmp_path / "graph" / "d"
    assert (f"  sbatch --parsable --job-name=flowmill-c --chdir={c_dir} --open-mode=append "
            f"--output={c_dir}/slurm.out" + (" '--dependency=afterok:<mid>' --kill-on-invalid-dep=yes" if graph else "")
            + f" -p debug '--comment=two words' {c_dir}/slurm_job.py") in out
    assert "--cpus-per-task=2 --mem=1536M --time=00:10:00 -p debug" in out
    assert not (d_dir / "slurm_job.py").exists() and not slurm_jobs()
