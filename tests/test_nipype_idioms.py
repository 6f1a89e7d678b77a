"""nipype users' idioms that flowmill accepts as nipype does (issue 16): each test
is a habit a nipype user brings, in the form they would write it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, PluginError, ValidationError, Workflow, WorkflowError
from flowmill.execution.session import Session


def inc(x: int) -> int:
    return x + 1


def explode(x: int) -> int:
    raise ValueError("on purpose")


def one_node(func=inc, name: str = "n", base_dir: Path | None = None) -> Workflow:
    wf = Workflow("idioms", base_dir=base_dir)
    node = Node(func, name=name)
    node.inputs.x = 1
    wf.add_nodes([node])
    return wf


def test_base_dir_assigned_as_a_str_after_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    wf = one_node()
    wf.base_dir = "work"
    assert wf.base_dir == Path("work")
    assert wf.run()["n"].out == 2
    assert (tmp_path / "work" / "idioms" / "n" / "result.pkl").is_file()


def test_a_graph_mistake_is_a_value_error() -> None:
    wf = Workflow("idioms")
    with pytest.raises(ValueError, match="has no input 'y'"):
        wf.connect(Node(inc, name="a"), "out", Node(inc, name="b"), "y")
    assert issubclass(ValidationError, ValueError)


def test_failed_nodes_are_a_runtime_error(tmp_path: Path) -> None:
    wf = one_node(explode, base_dir=tmp_path)
    with pytest.raises(RuntimeError, match="1 node\\(s\\) failed"):
        wf.run()
    assert issubclass(WorkflowError, RuntimeError)


@pytest.mark.parametrize("plugin, args, backend", [
    ("Linear", {}, "linear"),
    ("LINEAR", {}, "linear"),
    ("MultiProc", {"n_procs": 2, "memory_gb": 1.5, "raise_insufficient": True, "non_daemon": True}, "multiproc"),
])
def test_nipype_plugin_names_run(tmp_path: Path, plugin: str, args: dict, backend: str) -> None:
    with Observed() as seen:
        res = one_node(base_dir=tmp_path).run(plugin=plugin, plugin_args=args)
    assert res["n"].out == 2
    assert seen.backends == [backend]


def test_sgegraph_is_the_sge_backend_in_graph_mode(tmp_path: Path) -> None:
    session = Session("w", tmp_path, "SGEGraph", {"qsub_args": "-q short"})
    assert session.backend.name == "sge"
    assert session.backend_options.graph is True and session.backend_options.qsub_args == "-q short"
    assert Session("w", tmp_path, "SGE", {}).backend_options.graph is False
    assert Session("w", tmp_path, "IPython", {}).backend.name == "ipython"
    assert Session("w", tmp_path, "SLURMGraph", {}).backend_options.graph is True
    assert Session("w", tmp_path, "SLURM", {}).backend.name == "slurm"


@pytest.mark.parametrize("plugin, args, message", [
    ("LegacyMultiProc", {}, "use plugin='multiproc'"),
    ("LSF", {}, "flowmill has no LSF backend"),
    ("PBSGraph", {}, "plugin='sge' with graph=True"),
    ("MultiProc", {"maxtasksperchild": 10}, "'maxtasksperchild' .* has no use in flowmill"),
    ("MultiProc", {"raise_insufficient": False}, "always refuses, before the run, a node asking more"),
    ("Linear", {"n_procs": 2}, "backend 'linear' has no option 'n_procs', an option of backend.*'multiproc'.*"
                               "run with plugin='multiproc'"),
])
def test_what_flowmill_cannot_honour_is_refused_saying_what_to_write(tmp_path: Path, plugin: str, args: dict,
                                                                     message: str) -> None:
    with pytest.raises(PluginError, match=message):
        one_node(base_dir=tmp_path).run(plugin=plugin, plugin_args=args)
    assert not (tmp_path / "idioms").exists()


class Observed:
    """Records the backend of each run (an observer plugin)."""

    def __init__(self) -> None:
        self.backends: list[str] = []

    @flowmill.hookimpl
    def flowmill_run_started(self, run: Any) -> None:
        self.backends.append(run.backend)

    def __enter__(self) -> "Observed":
        flowmill.register(self)
        return self

    def __exit__(self, *exc: object) -> None:
        flowmill.unregister(self)
