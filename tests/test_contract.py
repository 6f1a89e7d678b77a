"""The plugin contract, exercised through backends written in the tests against the
public API only (tests/plugin_examples.py), as a third party would."""

from __future__ import annotations

import time

import pytest

import flowmill
from flowmill import MapNode, Node, PluginError, Workflow
from flowmill.testing import ConformanceSuite, EventLog

from .plugin_examples import ExamplePlugin


@pytest.fixture
def example():
    plugin = ExamplePlugin()
    flowmill.register(plugin)
    yield plugin
    flowmill.unregister(plugin)


class ExampleNodeOptions:
    """The per-node plugin_args case for the example backends: the executor records
    the options each job reached it with."""

    node_option = ""

    def node_plugin_args(self):
        return {self.node_option: "node"}

    def check_node_plugin_args(self, outcome, tmp_path):
        assert isinstance(outcome, flowmill.RunResult)
        seen = self.plugin.last.seen_options
        assert getattr(seen["left"], self.node_option) == "node"
        assert getattr(seen["right"], self.node_option) == ""


class TestPoolBackendConforms(ExampleNodeOptions, ConformanceSuite):
    backend = "pool"
    node_option = "label"

    @pytest.fixture
    def run_options(self, example):
        self.plugin = example
        return {"workers": 3}


class TestGraphBackendConforms(ExampleNodeOptions, ConformanceSuite):
    backend = "graphthreads"
    node_option = "queue"

    @pytest.fixture
    def run_options(self, example):
        self.plugin = example
        return {}


def inc(x: int) -> int:
    return x + 1


def slow(x: int) -> int:
    time.sleep(x)
    return x


def one_node(tmp_path, func=inc, x=1) -> Workflow:
    wf = Workflow("one", base_dir=tmp_path)
    node = Node(func, name="n")
    node.inputs.x = x
    wf.add_nodes([node])
    return wf


def test_unknown_backend_lists_installed_ones(tmp_path):
    with pytest.raises(PluginError, match=r"no backend named 'nosuch' is installed. Installed backends: .*linear"):
        one_node(tmp_path).run(plugin="nosuch")


def test_known_but_missing_backend_names_its_distribution(tmp_path, monkeypatch):
    from flowmill.contract import manager as _manager

    monkeypatch.setitem(_manager.BUNDLED_DISTRIBUTIONS, "pbs", "flowmill-pbs")
    with pytest.raises(PluginError, match=r"pip install flowmill-pbs"):
        one_node(tmp_path).run(plugin="pbs")


def test_unknown_option_names_valid_options(tmp_path, example):
    with pytest.raises(PluginError, match=r"unknown option\(s\) wrokers.*workers \(int, default 2\).*retries"):
        one_node(tmp_path).run(plugin="pool", wrokers=2)
    assert not (tmp_path / "one").exists()


def test_ill_typed_option_is_refused(tmp_path, example):
    with pytest.raises(PluginError, match=r"option workers='2' should be int"):
        one_node(tmp_path).run(plugin="pool", plugin_args={"workers": "2"})
    with pytest.raises(PluginError, match=r"option retries=1.5 should be int"):
        one_node(tmp_path).run(plugin="pool", retries=1.5)


def test_contract_version_mismatch_is_explained(tmp_path):
    old = ExamplePlugin(contract=0)
    flowmill.register(old)
    try:
        with pytest.raises(PluginError, match=r"written for flowmill plugin contract 0.*speaks contract 2"):
            one_node(tmp_path).run(plugin="pool")
    finally:
        flowmill.unregister(old)


def test_timeout_needs_a_capable_backend(tmp_path):
    with pytest.raises(PluginError, match="does not support the timeout option"):
        one_node(tmp_path).run(timeout=1.0)


def test_lost_jobs_are_retried_then_reported(tmp_path, example):
    res = one_node(tmp_path).run(plugin="pool", lose_first=1, retries=1)
    assert res["n"].out == 2
    with pytest.raises(flowmill.WorkflowError) as info:
        one_node(tmp_path, x=5).run(plugin="pool", lose_first=2, retries=1)
    crash = flowmill.store.results.read_crash(info.value.failed[0].crash_file)
    assert crash["error"] == "lost 2 time(s), retries=1: worker vanished" and crash["details"] == {"worker": "t1"}


def test_graph_executor_runs_a_job_again_on_resubmit(tmp_path, example):
    res = one_node(tmp_path).run(plugin="graphthreads", lose_first=1, retries=1)
    assert res["n"].out == 2 and example.last.attempts == ["n", "n"]
    with pytest.raises(flowmill.WorkflowError) as info:
        one_node(tmp_path, x=5).run(plugin="graphthreads", lose_first=2, retries=1)
    crash = flowmill.store.results.read_crash(info.value.failed[0].crash_file)
    assert crash["error_type"] == "JobLost" and crash["error"] == "lost 2 time(s), retries=1: thread vanished"
    assert example.last.attempts == ["n", "n"]


def test_timeout_clock_starts_when_the_job_starts(tmp_path, example):
    """One worker, three jobs accepted at once: the last waits 2 s in the pool's queue
    and is done 3 s after its submission, past the 2 s timeout, and still succeeds:
    queue time does not count (clocked from submission, s2 would time out)."""
    wf = Workflow("queued", base_dir=tmp_path)
    for i in range(3):
        node = Node(slow, name=f"s{i}")
        node.inputs.x = 1.0 + i / 1000
        wf.add_nodes([node])
    res = wf.run(plugin="pool", workers=1, queued=2, timeout=2.0)
    assert sorted(res.executed) == ["s0", "s1", "s2"] and example.last.cancelled == []


def test_resubmitted_job_gets_a_fresh_deadline(tmp_path, example):
    """The lost attempt runs 1.5 s, the next one 1 s: within the 2 s timeout each, not
    together."""
    res = one_node(tmp_path, func=slow, x=1.0).run(plugin="pool", lose_first=1, lose_after=1.5, retries=1,
                                                   timeout=2.0)
    assert res["n"].out == 1.0 and example.last.cancelled == []


def test_timeout_cancels_and_fails_the_node(tmp_path, example):
    with pytest.raises(flowmill.WorkflowError, match="timed out after 0.3s"):
        one_node(tmp_path, func=slow, x=2).run(plugin="pool", timeout=0.3)
    assert example.last.cancelled == ["n"]


def test_map_elements_reach_the_executor_as_one_batch(tmp_path, example):
    wf = Workflow("batch", base_dir=tmp_path)
    m = MapNode(inc, name="m", iterfield="x")
    m.inputs.x = list(range(5))
    wf.add_nodes([m])
    assert wf.run(plugin="pool")["m"].out == [1, 2, 3, 4, 5]
    assert example.last.batches == [[f"m#{i}" for i in range(5)]]


def test_node_plugin_args_extend_or_overwrite(tmp_path, example):
    wf = Workflow("merge", base_dir=tmp_path)
    extend = Node(inc, name="extend", plugin_args={"label": "-l mem=4G"})
    replace = Node(inc, name="replace", plugin_args={"label": "-q fast", "overwrite": True})
    foreign = Node(inc, name="foreign", plugin_args={"queue": "long.q"})
    for node in (extend, replace, foreign):
        node.inputs.x = 1
    wf.add_nodes([extend, replace, foreign])
    wf.run(plugin="pool", label="-q all.q")
    seen = example.last.seen_options
    assert seen["extend"].label == "-q all.q -l mem=4G"
    assert seen["replace"].label == "-q fast"
    assert seen["foreign"].label == "-q all.q"


def test_node_plugin_args_of_no_installed_backend_are_refused(tmp_path, example):
    wf = Workflow("bad", base_dir=tmp_path)
    node = Node(inc, name="n", plugin_args={"qsub_argz": "-q x"})
    node.inputs.x = 1
    wf.add_nodes([node])
    with pytest.raises(flowmill.ValidationError, match=r"node 'n': plugin_args \['qsub_argz'\]"):
        wf.run(plugin="pool")


def test_events_on_a_threaded_backend(tmp_path, example):
    log = EventLog()
    flowmill.register(log)
    try:
        one_node(tmp_path).run(plugin="pool")
    finally:
        flowmill.unregister(log)
    assert [name for name, _ in log.events] == ["started", "finished"]
