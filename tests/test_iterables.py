"""Iterables, MapNode and JoinNode semantics. The expected values are what nipype 1.x
gives for the same graphs (iterables expand as a product with the first iterable
varying slowest, synchronize zips, itersource picks per upstream value, JoinNode
collects in the iterables' order, MapNode zips iterfields)."""

from __future__ import annotations

import pytest

from flowmill import JoinNode, MapNode, Node, ValidationError, Workflow


def ident(x):
    return x


def pair(x, y):
    return (x, y)


def inc(x):
    return x + 1


def double(x):
    return 2 * x


def add(x, y):
    return x + y


def listing(vals):
    return list(vals)


def test_product_of_two_iterables_first_varies_slowest(tmp_path):
    wf = Workflow("prod", base_dir=tmp_path)
    node = Node(pair, name="p")
    node.iterables = [("x", [1, 2]), ("y", ["a", "b"])]
    wf.add_nodes([node])
    res = wf.run()
    assert [e.outputs.out for e in res["p"]] == [(1, "a"), (1, "b"), (2, "a"), (2, "b")]
    assert [e.params for e in res["p"]][1] == {"p.x": 1, "p.y": "b"}


def test_synchronize_zips_iterables(tmp_path):
    wf = Workflow("sync", base_dir=tmp_path)
    node = Node(pair, name="p")
    node.iterables = [("x", [1, 2]), ("y", ["a", "b"])]
    node.synchronize = True
    wf.add_nodes([node])
    assert [e.outputs.out for e in wf.run()["p"]] == [(1, "a"), (2, "b")]


def test_downstream_nodes_expand_and_chain_iterables_multiply(tmp_path):
    wf = Workflow("chain", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", [1, 2])
    b = Node(add, name="b")
    b.iterables = ("y", [10, 20, 30])
    c = Node(double, name="c")
    wf.connect([(a, b, [("out", "x")]), (b, c, [("out", "x")])])
    res = wf.run()
    assert [e.outputs.out for e in res["c"]] == [22, 42, 62, 24, 44, 64]
    assert res["c"][4].params == {"a.x": 2, "b.y": 20}
    assert (tmp_path / "chain" / "c" / "a.x-2_b.y-20").is_dir()


def test_itersource_picks_values_per_upstream_value(tmp_path):
    wf = Workflow("isrc", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", [1, 2])
    b = Node(add, name="b")
    b.itersource = ("a", "x")
    b.iterables = [("y", {1: [10, 11], 2: [20]})]
    wf.connect(a, "out", b, "x")
    res = wf.run()
    assert [(e.params["a.x"], e.params["b.y"], e.outputs.out) for e in res["b"]] == [
        (1, 10, 11), (1, 11, 12), (2, 20, 22)]


def test_join_collects_in_iterables_order_per_other_iterable(tmp_path):
    wf = Workflow("join", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", [3, 1, 2])
    b = Node(add, name="b")
    b.iterables = ("y", [0, 100])
    j = JoinNode(listing, name="j", joinsource="a", joinfield=["vals"])
    wf.connect([(a, b, [("out", "x")]), (b, j, [("out", "vals")])])
    res = wf.run()
    assert [(e.params, e.outputs.out) for e in res["j"]] == [
        ({"b.y": 0}, [3, 1, 2]), ({"b.y": 100}, [103, 101, 102])]


def test_join_unique_drops_repeats(tmp_path):
    wf = Workflow("uniq", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", [1, 2, 1, 3, 2])
    j = JoinNode(listing, name="j", joinsource=a, joinfield="vals", unique=True)
    wf.connect(a, "out", j, "vals")
    assert wf.run()["j"].out == [1, 2, 3]


def test_mapnode_zips_iterfields(tmp_path):
    wf = Workflow("map", base_dir=tmp_path)
    m = MapNode(add, name="m", iterfield=["x", "y"])
    m.inputs.x = [1, 2, 3]
    m.inputs.y = [10, 20, 30]
    wf.add_nodes([m])
    assert wf.run()["m"].out == [11, 22, 33]


def test_mapnode_nested_restores_nesting(tmp_path):
    wf = Workflow("nest", base_dir=tmp_path)
    m = MapNode(double, name="m", iterfield=["x"], nested=True)
    m.inputs.x = [[1, 2], [3], [[4, 5]]]
    wf.add_nodes([m])
    assert wf.run()["m"].out == [[2, 4], [6], [[8, 10]]]


def test_mapnode_from_upstream_list_loops_in_one_job(tmp_path):
    wf = Workflow("dyn", base_dir=tmp_path)
    src = Node(ident, name="src")
    src.inputs.x = [[1, 2], [3]]
    m = MapNode(double, name="m", iterfield=["x"], nested=True)
    wf.connect(src, "out", m, "x")
    res = wf.run()
    assert res["m"].out == [[2, 4], [6]]
    assert (tmp_path / "dyn" / "m" / "_map" / "2" / "result.pkl").is_file()


def test_changing_one_element_reruns_only_it(tmp_path):
    def build(values):
        wf = Workflow("elem", base_dir=tmp_path)
        m = MapNode(double, name="m", iterfield=["x"])
        m.inputs.x = values
        after = Node(listing, name="after")
        wf.connect(m, "out", after, "vals")
        return wf

    build([1, 2, 3]).run()
    res = build([1, 5, 3]).run()
    assert sorted(res.executed) == ["after", "m", "m#1"]
    assert sorted(res.cached) == ["m#0", "m#2"]
    assert res["after"].out == [2, 10, 6]


def test_iterable_expansions_cache_individually(tmp_path):
    def build(values):
        wf = Workflow("cache", base_dir=tmp_path)
        a = Node(double, name="a")
        a.iterables = ("x", values)
        wf.add_nodes([a])
        return wf

    build([1, 2]).run()
    res = build([1, 2, 3]).run()
    assert res.executed == ["a[a.x=3]"]
    assert sorted(res.cached) == ["a[a.x=1]", "a[a.x=2]"]


@pytest.mark.parametrize("values, prefix", [
    (["../../etc", "a b/c"], "a.x-"),
    (["/data/sub-01/scan.nii", "/data/sub-02/scan.nii"], "a.x-scan.nii-"),
], ids=["unsafe characters", "same basename"])
def test_expansion_dirs_are_distinct_safe_file_names(tmp_path, values, prefix):
    wf = Workflow("names", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", values)
    wf.add_nodes([a])
    res = wf.run()
    dirs = sorted(p.name for p in (tmp_path / "names" / "a").iterdir())
    assert len(dirs) == 2 and all(d.startswith(prefix) and " " not in d for d in dirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names"]
    assert [e.outputs.out for e in res["a"]] == values


@pytest.mark.parametrize("build, message", [
    (lambda: MapNode(add, name="m", iterfield=["z"]), "iterfield 'z' is not an input"),
])
def test_bad_mapnode_declaration(build, message):
    with pytest.raises(ValidationError, match=message):
        build()


def test_unequal_iterfields_fail_before_running(tmp_path):
    wf = Workflow("uneq", base_dir=tmp_path)
    m = MapNode(add, name="m", iterfield=["x", "y"])
    m.inputs.x = [1, 2]
    m.inputs.y = [1]
    wf.add_nodes([m])
    with pytest.raises(ValidationError, match="unequal lengths"):
        wf.run()
    assert not (tmp_path / "uneq" / "m").exists()


def test_iterables_on_unknown_field(tmp_path):
    wf = Workflow("unk", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("nope", [1])
    wf.add_nodes([a])
    with pytest.raises(ValidationError, match="'nope', which is not an input"):
        wf.run()


def test_joinsource_not_upstream(tmp_path):
    wf = Workflow("notup", base_dir=tmp_path)
    a = Node(ident, name="a")
    a.iterables = ("x", [1, 2])
    other = Node(ident, name="other")
    other.inputs.x = 1
    j = JoinNode(listing, name="j", joinsource="a", joinfield=["vals"])
    wf.connect(other, "out", j, "vals")
    wf.add_nodes([a])
    with pytest.raises(ValidationError, match="joinsource 'a' is not upstream"):
        wf.run()


def test_sweep_expands_27000_nodes(tmp_path):
    from flowmill.workflow.build import build_graph
    from flowmill.testing._workflows import parameter_sweep

    graph = build_graph(parameter_sweep(tmp_path), tmp_path / "sweep", "content")
    assert len(graph.nodes["p2"][0]) == 27000
    assert len(graph) == 30 + 900 + 27000



def chained_maps(tmp_path, values, extra=None):
    wf = Workflow("chained", base_dir=tmp_path)
    first = MapNode(double, name="first", iterfield=["x"])
    first.inputs.x = values
    second = MapNode(add, name="second", iterfield=["x", "y"] if extra is not None else ["x"])
    second.inputs.y = extra if extra is not None else 100
    wf.connect(first, "out", second, "x")
    return wf


def test_map_fed_by_a_map_runs_element_by_element(tmp_path):
    from flowmill.workflow.build import build_graph

    graph = build_graph(chained_maps(tmp_path, [1, 2, 3]), tmp_path / "chained", "content")
    assert graph.parents["second#1"] == ("first#1",)
    res = chained_maps(tmp_path, [1, 2, 3]).run()
    assert res["second"].out == [102, 104, 106]
    again = chained_maps(tmp_path, [1, 5, 3]).run()
    assert sorted(again.executed) == ["first", "first#1", "second", "second#1"]
    assert again["second"].out == [102, 110, 106]


def test_map_fed_by_a_map_zips_with_static_iterfields(tmp_path):
    assert chained_maps(tmp_path, [1, 2], extra=[10, 20]).run()["second"].out == [12, 24]
    with pytest.raises(ValidationError, match=r"unequal lengths \{'x': 2, 'y': 3\}"):
        chained_maps(tmp_path / "bad", [1, 2], extra=[10, 20, 30]).run()
