"""``wf.run(dry_run=True)`` on backends without a dry run of their own (linear,
ipython, third parties): what would run, what is cached, nothing run (no cluster
needed); backends with their own (SGE, Ruffus) get the option."""

from __future__ import annotations

import pytest

import flowmill
from flowmill import Node, NodeState, Workflow

from .plugin_examples import ExamplePlugin


def inc(x: int) -> int:
    return x + 1


def chain(tmp_path, x: int = 1) -> Workflow:
    wf = Workflow("dry", base_dir=tmp_path)
    a = Node(inc, name="a")
    a.inputs.x = x
    b = Node(inc, name="b")
    wf.connect(a, "out", b, "x")
    c = Node(inc, name="c")
    c.inputs.x = 10
    wf.add_nodes([c])
    return wf


@pytest.fixture(params=["linear", "pool", "ipython"])
def plugin(request):
    example = ExamplePlugin()
    flowmill.register(example)
    yield request.param
    flowmill.unregister(example)


def test_a_dry_run_lists_what_would_run_and_runs_nothing(tmp_path, plugin, capsys):
    res = chain(tmp_path).run(plugin=plugin, dry_run=True, progress=False)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"dry run of dry on backend {plugin}: 3 node(s) would run, 0 cached"
    assert sorted(printed[1:]) == ["  would run a: no earlier result", "  would run b: an upstream node would run",
                                   "  would run c: no earlier result"]
    assert res.executed == [] and res.cached == [] and res.state("a") == NodeState.NOT_RUN
    assert not (tmp_path / "dry" / "a").exists()


def test_a_dry_run_after_a_run_knows_the_cache(tmp_path, plugin, capsys):
    chain(tmp_path).run(plugin=plugin, progress=False)
    res = chain(tmp_path, x=2).run(plugin=plugin, dry_run=True, progress=False)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"dry run of dry on backend {plugin}: 2 node(s) would run, 1 cached"
    assert printed[1].startswith("  would run a: input x changed: ")
    assert printed[2:] == ["  would run b: an upstream node would run"]
    assert res.cached == ["c"]


def test_a_backend_with_its_own_dry_run_gets_the_option(tmp_path):
    with pytest.raises(flowmill.PluginError, match="dry_run=True shows what Ruffus would run"):
        chain(tmp_path).run(plugin="ruffus", dry_run=True)
