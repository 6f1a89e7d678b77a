"""The flowmill command line."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import flowmill
import flowmill.backend as api
from flowmill import Node, Workflow, WorkflowError


def fail(x: int) -> int:
    raise RuntimeError(f"cannot handle {x}")


def flowmill_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowmill.cli", *args], capture_output=True, text=True)


def test_plugins_lists_backends_with_distribution_and_options():
    done = flowmill_cli("plugins")
    assert done.returncode == 0, done.stderr
    assert "linear  (flowmill-linear 0.1.0, contract 2)" in done.stdout
    assert "retries: int = 0" in done.stdout
    assert ("  run options honoured, by mode:\n    default: retries yes, timeout no, max_jobs yes, "
            "stop_on_first_crash yes, result_grace yes, needs pickling no, shared FS no\n") in done.stdout


def test_crash_shows_a_crash_file_readably(tmp_path):
    wf = Workflow("c", base_dir=tmp_path)
    node = Node(fail, name="n")
    node.inputs.x = 7
    wf.add_nodes([node])
    with pytest.raises(WorkflowError):
        wf.run()
    done = flowmill_cli("crash", str(tmp_path / "c" / "n" / "crash.json"))
    assert done.returncode == 0
    assert "Error:     RuntimeError: cannot handle 7" in done.stdout
    assert "  x = 7" in done.stdout and "Traceback" in done.stdout
    assert flowmill_cli("crash", str(tmp_path / "c" / "n")).stdout == done.stdout


def test_crash_on_a_file_that_is_not_one(tmp_path):
    other = tmp_path / "x.json"
    other.write_text("not json")
    done = flowmill_cli("crash", str(other))
    assert done.returncode == 1 and "is not a flowmill crash file" in done.stderr


def flaky_pipeline(tmp_path, first=fail) -> Workflow:
    """a -> b, and c alone."""
    wf = Workflow("st", base_dir=tmp_path)
    a = Node(first, name="a")
    a.inputs.x = 7
    b = Node(fail, name="b")
    wf.connect(a, "out", b, "x")
    c = Node(fail, name="c")
    c.inputs.x = 8
    wf.add_nodes([c])
    return wf


def test_crash_lists_every_crash_of_a_workflow(tmp_path):
    with pytest.raises(WorkflowError):
        flaky_pipeline(tmp_path).run(progress=False)
    done = flowmill_cli("crash", str(tmp_path / "st"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"a: RuntimeError: cannot handle 7\n  {tmp_path / 'st' / 'a' / 'crash.json'}\n"
                           f"c: RuntimeError: cannot handle 8\n  {tmp_path / 'st' / 'c' / 'crash.json'}\n"
                           "2 crash file(s); show one with: flowmill crash PATH\n")


def test_status_shows_the_last_run_and_a_chosen_one(tmp_path):
    run_ids = []
    for _ in range(2):
        with pytest.raises(WorkflowError) as caught:
            flaky_pipeline(tmp_path).run(progress=False)
        run_ids.append(caught.value.result.run_id)
    done = flowmill_cli("status", str(tmp_path / "st"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"run {run_ids[1]} of st on linear, started ") and "took " in lines[0]
    assert lines[1] == "  3 node(s): failed 2, skipped 1"
    assert lines[3:7] == ["failed:", "  a: RuntimeError: cannot handle 7",
                          f"    crash file: {tmp_path / 'st' / 'a' / 'crash.json'}",
                          "  c: RuntimeError: cannot handle 8"]
    assert "slowest:" in lines and any(line.startswith("  a: 0.") and " on " in line for line in lines)
    chosen = flowmill_cli("status", str(tmp_path / "st"), "--run", run_ids[0]).stdout
    assert chosen.startswith(f"run {run_ids[0]} of st")
    listing = flowmill_cli("status", str(tmp_path / "st"), "--all").stdout.splitlines()
    assert [line.split()[0] for line in listing] == run_ids
    assert all(line.endswith("3 node(s): failed 2, skipped 1") for line in listing)


def test_status_without_a_record_says_so(tmp_path):
    done = flowmill_cli("status", str(tmp_path))
    assert done.returncode == 1 and f"no run recorded in {tmp_path}" in done.stderr


def test_python_dash_m_flowmill_and_every_help_has_an_example():
    done = subprocess.run([sys.executable, "-m", "flowmill", "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for command in ("crash", "graph", "new-backend", "plugins", "report", "status"):
        assert command in done.stdout
        helped = subprocess.run([sys.executable, "-m", "flowmill", command, "--help"], capture_output=True, text=True)
        assert "Example" in helped.stdout and f"flowmill {command} " in helped.stdout


@dataclass(frozen=True)
class HoldOptions:
    """No options."""


class Holder:
    """A graph-level backend that leaves every job with its scheduler (like SGE's
    ``wait=False``): nothing runs, everything is pending."""

    @flowmill.hookimpl
    def flowmill_backends(self):
        return [api.Backend("holder", "holds every job (test)", 2, HoldOptions)]

    @flowmill.hookimpl
    def flowmill_make_executor(self, backend, options, context):
        return self

    def run_graph(self, graph, options, events):
        return list(graph.jobs)

    def cancel(self, job_ids):
        pass

    def shutdown(self):
        pass


def test_status_lists_what_a_scheduler_still_holds(tmp_path):
    holder = Holder()
    flowmill.register(holder)
    try:
        wf = Workflow("held", base_dir=tmp_path)
        node = Node(fail, name="n")
        node.inputs.x = 1
        wf.add_nodes([node])
        assert wf.run(plugin="holder", progress=False).pending == ["n"]
    finally:
        flowmill.unregister(holder)
    lines = flowmill_cli("status", str(tmp_path / "held")).stdout.splitlines()
    assert lines[1] == "  1 node(s): pending 1"
    assert lines[-2:] == ["pending (held by the scheduler; a later run re-attaches):", "  n"]


def test_graph_draws_the_recorded_run(tmp_path):
    with pytest.raises(WorkflowError):
        flaky_pipeline(tmp_path).run(progress=False)
    done = flowmill_cli("graph", str(tmp_path / "st"), "-o", str(tmp_path / "g.dot"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "g.dot").read_text()
    assert '  "a" -> "b";' in text
    assert '  "a" [label="a", fillcolor="#f38ba8"];' in text and '  "b" [label="b", fillcolor="#d9d9d9"];' in text
    mermaid = flowmill_cli("graph", str(tmp_path / "st"), "-o", str(tmp_path / "g.mmd"))
    assert mermaid.returncode == 0 and (tmp_path / "g.mmd").read_text().startswith("flowchart TD\n")

def test_the_kit_by_name_takes_sizes_and_ignores_the_projects_configuration():
    """Run from this repository, whose setup.cfg adds -ra (a summary of skips): the
    kit's own run does not pick it up."""
    done = subprocess.run([sys.executable, "-m", "flowmill.testing", "linear", "--fan-out-width", "3",
                           "--chain-length", "2", "--", "-k", "fan_out or chain or lost_once"],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 1 skipped" in done.stdout
    assert "short test summary info" not in done.stdout
