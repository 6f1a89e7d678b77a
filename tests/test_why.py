"""Every node that runs says why (``res.why``, and the run's log at INFO)."""

from __future__ import annotations

import importlib
import logging
import pickle

from flowmill import Node, Workflow
from flowmill.store.hashing import value_digest

from .test_store_integrity import add, chain, listing, split


def short(value: object) -> str:
    return value_digest(value)[:12]


def test_why_each_node_ran(backend, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="flowmill"):
        res = backend.run(chain(tmp_path))
    assert res.why("a") == res.why("b") == "no earlier result"
    because = {r.getMessage().split(" ")[1]: r.getMessage().partition("; it ran because: ")[2]
               for r in caplog.records if " finished in " in r.getMessage()}
    assert because == {"a": "no earlier result", "b": "no earlier result"}
    res = backend.run(chain(tmp_path))
    assert res.why("b").startswith("not run: its key is unchanged")
    wf = chain(tmp_path)
    wf.get_node("a").inputs.x = 2
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="flowmill"):
        res = backend.run(wf)
    assert res.why("a") == f"input x changed: {short(1)} -> {short(2)}"
    assert res.why("b") == f"upstream output a.out (input x) changed: {short(3)} -> {short(4)}"
    assert any(r.getMessage().startswith("node b finished in ") and r.getMessage().endswith(f"; it ran because: {res.why('b')}")
               for r in caplog.records)


def test_why_a_new_version_or_edited_code_reran(tmp_path, monkeypatch):
    module = tmp_path / "edited_helpers.py"
    module.write_text("def f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import edited_helpers

    def build(version: str) -> Workflow:
        wf = Workflow("edits", base_dir=tmp_path)
        node = Node(edited_helpers.f, name="f", version=version)
        node.inputs.x = 1
        wf.add_nodes([node])
        return wf

    build("1").run()
    assert build("2").run().why("f") == "its version changed: 1 -> 2"
    module.write_text("def f(x):\n    return x + 100\n")
    importlib.reload(edited_helpers)
    assert build("2").run().why("f") == "its code changed"


def test_why_an_edited_output_or_a_damaged_result_reran(backend, tmp_path):
    backend.run(listing(tmp_path))
    lines = tmp_path / "listing/seq/lines.txt"
    lines.write_text("edited\n")
    assert backend.run(listing(tmp_path)).why("seq") == f"output file {lines} changed"
    (tmp_path / "listing/count/result.pkl").write_bytes(b"garbage")
    assert backend.run(listing(tmp_path)).why("count").startswith(
        "its stored result was damaged (its header does not unpickle (UnpicklingError: ")


def test_a_result_of_an_older_flowmill_is_recomputed_without_a_warning(tmp_path, caplog):
    chain(tmp_path).run()
    result = tmp_path / "damage/a/result.pkl"
    header, _, payload = split(result.read_bytes())
    old = {key: header[key] for key in ("hash", "digests", "token", "host", "started", "duration")}
    result.write_bytes(pickle.dumps(old) + payload)
    with caplog.at_level(logging.WARNING, logger="flowmill"):
        res = chain(tmp_path).run()
    assert res.executed == ["a"] and res["b"].out == add(add(1))
    assert res.why("a") == "its stored result is outdated (it was written by an older flowmill)"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
