"""Iterables and MapNode edge cases as nipype users write them (issue 16): nipype's
semantics where they are sound, a clear error before anything runs where nipype's
behaviour is a trap (docs/from-nipype.md says which)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmill import MapNode, Node, ValidationError, Workflow


def pair(x: int, y: int) -> tuple[int, int]:
    return x, y


def ident(x: int) -> int:
    return x


def inc(x: int) -> int:
    return x + 1


def plus(x: int, y: int) -> int:
    return x + y


def test_synchronize_tuple_form(tmp_path: Path) -> None:
    wf = Workflow("sync", base_dir=tmp_path)
    node = Node(pair, name="p")
    node.iterables = [("x", "y"), [(1, 3), (2, 4)]]
    node.synchronize = True
    wf.add_nodes([node])
    res = wf.run()
    assert [e.outputs.out for e in res["p"]] == [(1, 3), (2, 4)]
    assert res["p"][1].params == {"p.x": 2, "p.y": 4}


def test_synchronize_tuple_form_with_a_short_row_is_refused(tmp_path: Path) -> None:
    wf = Workflow("sync", base_dir=tmp_path)
    node = Node(pair, name="p", iterables=[("x", "y"), [(1, 3), (2,)]], synchronize=True)
    wf.add_nodes([node])
    with pytest.raises(ValidationError, match=r"take one value for each field per instance, got \(2,\)"):
        wf.run()


def test_synchronize_unequal_lengths_is_refused_before_running(tmp_path: Path) -> None:
    """nipype pads the shorter list with None, which then runs as an input value."""
    wf = Workflow("sync", base_dir=tmp_path)
    wf.add_nodes([Node(pair, name="p", iterables=[("x", [1, 2, 3]), ("y", [1])], synchronize=True)])
    with pytest.raises(ValidationError, match=r"unequal lengths \[1, 3\].*pad the shorter ones with None"):
        wf.run()
    assert not (tmp_path / "sync" / "p").exists()


def itersourced(tmp_path: Path, table: dict) -> Workflow:
    wf = Workflow("isrc", base_dir=tmp_path)
    a = Node(pair, name="a", iterables=[("x", [1, 2]), ("y", [10, 20])], synchronize=True)
    b = Node(plus, name="b", itersource=("a", ("x", "y")), iterables=[("y", table)])
    wf.connect(a, ("out", first), b, "x")
    return wf


def first(values: tuple[int, int]) -> int:
    return values[0]


def test_itersource_over_several_fields(tmp_path: Path) -> None:
    res = itersourced(tmp_path, {(1, 10): [100, 101], (2, 20): [200]}).run()
    assert [(e.params["a.x"], e.params["b.y"], e.outputs.out) for e in res["b"]] == [
        (1, 100, 101), (1, 101, 102), (2, 200, 202)]


def test_itersource_value_without_entry_is_refused_before_running(tmp_path: Path) -> None:
    """nipype runs one unexpanded instance for it, silently dropping the iterable."""
    with pytest.raises(ValidationError, match=r"no entry for \(2, 20\)"):
        itersourced(tmp_path, {(1, 10): [100]}).run()
    assert not (tmp_path / "isrc" / "a").exists()


def test_itersource_field_that_is_not_an_iterable_is_named(tmp_path: Path) -> None:
    wf = Workflow("isrc", base_dir=tmp_path)
    a = Node(ident, name="a", iterables=("x", [1, 2]))
    b = Node(plus, name="b", itersource=("a", ("x", "z")), iterables=[("y", {})])
    wf.connect(a, "out", b, "x")
    with pytest.raises(ValidationError, match=r"itersource field\(s\) \['z'\] are not iterables of 'a'"):
        wf.run()


@pytest.mark.parametrize("value, expected", [
    (5, [6]),                      # one value: one element
    ("7", ["7!"]),                 # a str is one value, not its characters
    (range(3), [1, 2, 3]),         # a range is iterated
    ((4, 5), [5, 6]),
])
def test_mapnode_iterfield_given_one_value_or_a_range(tmp_path: Path, value: object, expected: list) -> None:
    wf = Workflow("map", base_dir=tmp_path)
    m = MapNode(shout if isinstance(value, str) else inc, name="m", iterfield=["x"])
    m.inputs.x = value
    wf.add_nodes([m])
    assert wf.run()["m"].out == expected


def shout(x: str) -> str:
    return x + "!"


@pytest.mark.parametrize("value", [{1, 2}, {"a": 1}, iter([1, 2])])
def test_mapnode_iterfield_given_an_unordered_or_one_shot_collection_is_refused(tmp_path: Path,
                                                                               value: object) -> None:
    wf = Workflow("map", base_dir=tmp_path)
    m = MapNode(inc, name="m", iterfield=["x"])
    m.inputs.x = value
    wf.add_nodes([m])
    with pytest.raises(ValidationError, match="iterfield 'x' must be a list"):
        wf.run()
