"""``Workflow.write_graph``: dot and Mermaid, collapsed and expanded, coloured by the
last run, drawn by Graphviz when it is installed."""

from __future__ import annotations


import pytest

from flowmill import FlowmillError, MapNode, Node, Workflow, WorkflowError

from .debian_tools import require


def inc(x: int) -> int:
    return x + 1


def lengths(n: int) -> list[int]:
    return list(range(n))


def picky(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return x


def sweep(tmp_path) -> Workflow:
    """a (iterables x in 1, 2) -> b."""
    wf = Workflow("pic", base_dir=tmp_path)
    a = Node(inc, name="a")
    a.iterables = ("x", [1, 2])
    b = Node(picky, name="b")
    wf.connect(a, "out", b, "x")
    return wf


def test_collapsed_dot_has_one_box_per_node_and_labelled_edges(tmp_path):
    text = sweep(tmp_path).write_graph(tmp_path / "g.dot").read_text()
    assert text.startswith('digraph "pic" {')
    assert '  "a" [label="a (×2)"];' in text and '  "b" [label="b (×2)"];' in text, "b inherits a's expansion"
    assert '  "a" -> "b" [label="out → x"];' in text
    assert text.count("[label=") == 3


def test_expanded_view_unfolds_iterables_and_colours_the_last_run(tmp_path):
    wf = sweep(tmp_path)
    with pytest.raises(WorkflowError):
        wf.run(progress=False)
    expanded = wf.write_graph(tmp_path / "g.dot", expanded=True).read_text()
    assert '  "a[a.x=1]" [label="a[a.x=1]", fillcolor="#a6e3a1"];' in expanded
    assert '  "b[a.x=1]" [label="b[a.x=1]", fillcolor="#f38ba8"];' in expanded, "b got 2 from a[a.x=1]"
    assert '  "b[a.x=2]" [label="b[a.x=2]", fillcolor="#a6e3a1"];' in expanded
    assert '  "a[a.x=2]" -> "b[a.x=2]";' in expanded
    collapsed = wf.write_graph(tmp_path / "c.dot").read_text()
    assert '  "b" [label="b (×2)", fillcolor="#f38ba8"];' in collapsed, "a folded box shows its worst instance"
    assert '  "a" [label="a (×2)", fillcolor="#a6e3a1"];' in collapsed
    mermaid = wf.write_graph(tmp_path / "g.mmd").read_text().splitlines()
    assert mermaid[-4:] == ["  classDef ran fill:#a6e3a1", "  class n0 ran", "  classDef failed fill:#f38ba8",
                            "  class n1 failed"]


def test_mermaid_before_any_run(tmp_path):
    text = sweep(tmp_path).write_graph(tmp_path / "g.mmd").read_text()
    assert text.splitlines() == ["flowchart TD", '  n0["a (×2)"]', '  n1["b (×2)"]', "  n0 -->|out → x| n1"]


def maps(tmp_path) -> Workflow:
    """In a nested workflow: m maps over 4 values set before the run; e is fed m's
    list element-wise; r maps over a list made at run time; s (iterables p in 1, 2)
    maps over 3 values in each of its 2 instances."""
    inner = Workflow("inner")
    m = MapNode(inc, name="m", iterfield="x")
    m.inputs.x = [1, 2, 3, 4]
    e = MapNode(inc, name="e", iterfield="x")
    inner.connect(m, "out", e, "x")
    make = Node(lengths, name="make")
    make.inputs.n = 3
    r = MapNode(inc, name="r", iterfield="x")
    inner.connect(make, "out", r, "x")
    s = MapNode(pair, name="s", iterfield="x")
    s.inputs.x = [1, 2, 3]
    s.iterables = ("p", [1, 2])
    inner.add_nodes([s])
    outer = Workflow("outer", base_dir=tmp_path)
    outer.add_nodes([inner])
    return outer


def pair(x: int, p: int) -> int:
    return x * p


def test_collapsed_boxes_count_the_map_elements_known_before_the_run(tmp_path):
    dot = maps(tmp_path).write_graph(tmp_path / "g.dot").read_text()
    assert '  "inner.m" [label="inner.m (4 elements)"];' in dot
    assert '  "inner.e" [label="inner.e (4 elements)"];' in dot, "fed element-wise by m: its 4 are known"
    assert '  "inner.r" [label="inner.r"];' in dot, "its list is made at run time: no count to give"
    assert '  "inner.make" [label="inner.make"];' in dot
    assert '  "inner.s" [label="inner.s (×2, 6 elements)"];' in dot
    mermaid = maps(tmp_path).write_graph(tmp_path / "g.mmd").read_text().splitlines()
    assert {'  n0["inner.m (4 elements)"]', '  n1["inner.e (4 elements)"]', '  n2["inner.make"]',
            '  n3["inner.r"]', '  n4["inner.s (×2, 6 elements)"]'} <= set(mermaid)


def test_svg_without_graphviz_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FlowmillError, match=r"needs Graphviz's `dot` program.*apt-get install graphviz"):
        sweep(tmp_path).write_graph(tmp_path / "g.svg")


def test_svg_with_graphviz(tmp_path):
    require("dot", "graphviz")
    assert "<svg" in sweep(tmp_path).write_graph(tmp_path / "g.svg").read_text()
