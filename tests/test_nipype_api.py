"""The parts of nipype's API its users reach for first, in flowmill's form (issue 16):
clone, disconnect, connecting through a function, pass-through nodes for nested
workflows, running one node, node keywords, overwrite, a status callback and the
expanded graph."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowmill import IdentityNode, MapNode, Node, Resources, ValidationError, Workflow


def inc(x: int) -> int:
    return x + 1


def plus(x: int, y: int) -> int:
    return x + y


def scale(value: int, factor: int, offset: int = 0) -> int:
    return value * factor + offset


def stamp(x: int, log: str) -> int:
    with open(log, "a") as handle:
        handle.write(f"{x}\n")
    return x


def chain(base_dir: Path) -> tuple[Workflow, Node, Node]:
    wf = Workflow("chain", base_dir=base_dir)
    a, b = Node(inc, name="a"), Node(inc, name="b")
    a.inputs.x = 1
    wf.connect(a, "out", b, "x")
    return wf, a, b


def test_node_clone_is_independent(tmp_path: Path) -> None:
    a = Node(inc, name="a", plugin_args={"qsub_args": "-q x"}, n_procs=2)
    a.inputs.x = 1
    twin = a.clone("twin")
    twin.inputs.x = 10
    twin.plugin_args["qsub_args"] = "-q y"
    assert (a.inputs.x, a.plugin_args, a.resources) == (1, {"qsub_args": "-q x"}, {"cpus": 2})
    assert twin.name == "twin" and twin.resources == {"cpus": 2}
    wf = Workflow("both", base_dir=tmp_path)
    wf.add_nodes([a, twin])
    res = wf.run()
    assert (res["a"].out, res["twin"].out) == (2, 11)


def test_mapnode_clone_keeps_its_iterfield() -> None:
    m = MapNode(inc, name="m", iterfield=["x"])
    assert m.clone("m2").iterfield == ["x"]


def test_workflow_clone_copies_nodes_and_connections(tmp_path: Path) -> None:
    wf, a, _ = chain(tmp_path)
    twin = wf.clone("chain2")
    twin.get_node("a").inputs.x = 100
    assert wf.run()["b"].out == 3
    assert twin.run()["b"].out == 102
    assert twin.get_node("a") is not a


def test_disconnect(tmp_path: Path) -> None:
    wf, a, b = chain(tmp_path)
    wf.disconnect(a, "out", b, "x")
    b.inputs.x = 5
    res = wf.run()
    assert res["b"].out == 6
    with pytest.raises(ValidationError, match="no connection a.out -> b.x"):
        wf.disconnect([(a, b, [("out", "x")])])


def test_connect_through_a_function(tmp_path: Path) -> None:
    wf = Workflow("through", base_dir=tmp_path)
    a, b = Node(inc, name="a"), Node(inc, name="b")
    a.inputs.x = 1
    wf.connect(a, ("out", scale, 10, 3), b, "x")
    res = wf.run()
    assert res["b"].out == 2 * 10 + 3 + 1
    assert "scale_a_out_to_b_x" in res.executed
    wf.disconnect(a, ("out", scale, 10, 3), b, "x")
    b.inputs.x = 0
    after = wf.run()
    assert after["b"].out == 1 and "scale_a_out_to_b_x" not in after.executed + after.cached


def test_connect_through_a_function_taking_too_few_arguments() -> None:
    wf = Workflow("through")
    with pytest.raises(ValidationError, match="takes 1 argument"):
        wf.connect(Node(inc, name="a"), ("out", inc, 2), Node(inc, name="b"), "x")


def test_identity_nodes_give_a_nested_workflow_inputs_and_outputs(tmp_path: Path) -> None:
    inner = Workflow("inner")
    inputnode = IdentityNode(["x", "y"], name="inputnode")
    outputnode = IdentityNode(["total"], name="outputnode")
    summed = Node(plus, name="summed")
    inner.connect([(inputnode, summed, [("x", "x"), ("y", "y")]), (summed, outputnode, [("out", "total")])])
    outer = Workflow("outer", base_dir=tmp_path)
    source = Node(inc, name="source")
    source.inputs.x = 1
    inner.get_node("inputnode").inputs.y = 40
    after = Node(inc, name="after")
    outer.connect([(source, inner, [("out", "inputnode.x")]), (inner, after, [("outputnode.total", "x")])])
    assert outer.run()["after"].out == 43


def test_run_one_node(tmp_path: Path) -> None:
    node = Node(plus, name="alone")
    node.inputs.x, node.inputs.y = 2, 3
    outputs = node.run(base_dir=tmp_path)
    assert outputs.out == 5 and node.result is outputs
    assert (tmp_path / "alone" / "alone" / "result.pkl").is_file()


def test_node_keywords_are_resources() -> None:
    node = Node(inc, name="big", n_procs=4, mem_gb=8)
    assert Resources.parse("big", node.resources) == Resources(cpus=4, mem_gb=8.0)
    with pytest.raises(ValidationError, match="disagree"):
        Node(inc, name="big", resources={"cpus": 2}, n_procs=4)


def test_overwrite_reruns_the_node_and_only_what_its_outputs_change(tmp_path: Path) -> None:
    log = tmp_path / "log"

    def build() -> Workflow:
        wf = Workflow("over", base_dir=tmp_path)
        first = Node(stamp, name="first", overwrite=True)
        first.inputs.x, first.inputs.log = 1, str(log)
        wf.connect(first, "out", Node(inc, name="after"), "x")
        return wf

    build().run()
    again = build().run()
    assert again.executed == ["first"] and again.cached == ["after"]
    assert log.read_text() == "1\n1\n"


def test_status_callback_sees_each_node(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    wf, _, _ = chain(tmp_path)
    wf.run(plugin_args={"status_callback": lambda job, status: seen.append((job.id, status))})
    assert seen == [("a", "start"), ("a", "end"), ("b", "start"), ("b", "end")]
    seen.clear()
    chain(tmp_path)[0].run(status_callback=lambda job, status: seen.append((job.id, status)))
    assert seen == [("a", "cached"), ("b", "cached")]


def test_expanded_graph_without_running(tmp_path: Path) -> None:
    wf = Workflow("sweep", base_dir=tmp_path)
    src = Node(inc, name="src", iterables=("x", [1, 2]))
    m = MapNode(inc, name="m", iterfield=["x"])
    m.inputs.x = [5, 6]
    wf.connect(src, "out", Node(inc, name="after"), "x")
    wf.add_nodes([m])
    graph = wf.expanded_graph()
    assert sorted(graph.nodes) == ["after[src.x=1]", "after[src.x=2]", "m", "m#0", "m#1",
                                   "src[src.x=1]", "src[src.x=2]"]
    assert ("src[src.x=1]", "after[src.x=1]") in graph.edges and ("m#0", "m") in graph.edges
    assert not (tmp_path / "sweep").exists()


def test_membership_re_adding_is_refused_two_workflows_allowed(tmp_path: Path) -> None:
    node = Node(inc, name="shared")
    node.inputs.x = 1
    one, two = Workflow("one", base_dir=tmp_path), Workflow("two", base_dir=tmp_path)
    one.add_nodes([node])
    with pytest.raises(ValidationError, match="'shared' is already in workflow 'one'"):
        one.add_nodes([node])
    two.add_nodes([node])
    assert one.run()["shared"].out == two.run()["shared"].out == 2
    assert (tmp_path / "two" / "shared" / "result.pkl").is_file()


def test_a_workflow_cannot_contain_itself_through_another() -> None:
    outer, inner = Workflow("outer"), Workflow("inner")
    inner.add_nodes([Node(inc, name="n")])
    outer.add_nodes([inner])
    with pytest.raises(ValidationError, match="cannot contain itself"):
        inner.add_nodes([outer])


def pid(x: int) -> int:
    return os.getpid()


def test_run_without_submitting_runs_in_the_driver(tmp_path: Path) -> None:
    wf = Workflow("driver", base_dir=tmp_path)
    here = Node(pid, name="here", run_without_submitting=True)
    here.inputs.x = 1
    away = Node(pid, name="away")
    wf.connect(here, "out", away, "x")
    passing = IdentityNode(["value"], name="passing")
    wf.connect(away, "out", passing, "value")
    res = wf.run(plugin="multiproc", n_procs=1)
    assert res["here"].out == os.getpid() != res["away"].out
    assert res["passing"].value == res["away"].out
    assert sorted(res.executed) == ["away", "here", "passing"]


def test_workflow_inputs_reach_nested_nodes(tmp_path: Path) -> None:
    inner = Workflow("inner")
    inner.connect(IdentityNode(["subject"], name="inputnode"), "subject", Node(inc, name="step"), "x")
    outer = Workflow("outer", base_dir=tmp_path)
    outer.add_nodes([inner])
    outer.inputs.inner.inputnode.subject = 41
    assert outer.run()["inner.step"].out == 42
    assert "inner" in dir(outer.inputs)
    with pytest.raises(ValidationError, match="has no node 'nosuch'"):
        outer.inputs.nosuch
