"""Command nodes in the cache: input files by content (or size+mtime), and the
command's own declaration, decide what reruns."""

from __future__ import annotations

import os
from pathlib import Path

from flowmill import CommandNode, File, Workflow

from .pipeline import PER_SUBJECT, build, expected_manifest, make_inputs


def test_changed_input_file_reruns_only_its_downstream(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    first = build(tmp_path / "work", inputs).run()
    assert sorted(first.executed) == sorted([*PER_SUBJECT, "manifest"])
    assert first["manifest"].out_file.read_text() == expected_manifest(tmp_path / "work", inputs)
    assert build(tmp_path / "work", inputs).run().executed == []

    inputs["a"].write_text("subject a, scanned again\n")
    again = build(tmp_path / "work", inputs).run()
    assert sorted(again.executed) == ["gzip_a", "manifest", "sum_a"]
    assert sorted(again.cached) == ["gzip_b", "sum_b"]
    assert again["manifest"].out_file.read_text() == expected_manifest(tmp_path / "work", inputs)


def test_rewriting_the_same_content_reruns_nothing_but_timestamp_hashing_notices(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    by_content, by_time = tmp_path / "content", tmp_path / "timestamp"
    build(by_content, inputs).run()
    build(by_time, inputs).run(hash_method="timestamp")
    stat = inputs["b"].stat()
    inputs["b"].write_bytes(inputs["b"].read_bytes())
    os.utime(inputs["b"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert build(by_content, inputs).run().executed == []
    rerun = build(by_time, inputs).run(hash_method="timestamp")
    assert sorted(rerun.executed) == ["gzip_b", "manifest", "sum_b"]  # a new archive has a new mtime too
    assert sorted(rerun.cached) == ["gzip_a", "sum_a"]


def test_changed_input_value_reruns_everything_it_reaches(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    build(tmp_path / "work", inputs, level=6).run()
    res = build(tmp_path / "work", inputs, level=1).run()
    assert sorted(res.executed) == sorted([*PER_SUBJECT, "manifest"])


def one_node(tmp_path: Path, **declaration: object) -> Workflow:
    source = tmp_path / "in.txt"
    if not source.exists():
        source.write_text("3\n1\n2\n")
    spec: dict = {"command": ["sort", "{in_file}"], "inputs": {"in_file": File},
                  "outputs": {"out": "sorted.txt"}, "stdout": "out", **declaration}
    node = CommandNode(name="sort", **spec)
    node.inputs.in_file = source
    wf = Workflow("decl", base_dir=tmp_path / "work")
    wf.add_nodes([node])
    return wf


def test_editing_the_declaration_reruns_the_node(tmp_path: Path) -> None:
    assert one_node(tmp_path).run().executed == ["sort"]
    assert one_node(tmp_path).run().cached == ["sort"]
    assert one_node(tmp_path, timeout=30).run().cached == ["sort"]  # a time limit does not change results
    reverse = one_node(tmp_path, command=["sort", "-r", "{in_file}"]).run()
    assert reverse.executed == ["sort"] and reverse["sort"].out.read_text() == "3\n2\n1\n"
    assert one_node(tmp_path, outputs={"out": "sorted.out"}).run().executed == ["sort"]
    assert one_node(tmp_path, outputs={"out": "sorted.out"}, env={"LC_ALL": "C"}).run().executed == ["sort"]


def test_a_new_build_of_the_tool_reruns_the_node(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "count"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nwc -l < \"$1\"\n")
    tool.chmod(0o755)
    source = tmp_path / "in.txt"
    source.write_text("x\ny\n")

    def run() -> list[str]:
        node = CommandNode([str(tool), "{in_file}"], inputs={"in_file": File}, outputs={"n": "n.txt"}, stdout="n")
        node.inputs.in_file = source
        wf = Workflow("tool", base_dir=tmp_path / "work")
        wf.add_nodes([node])
        return wf.run().executed

    assert run() == ["count"] and run() == []
    tool.write_text("#!/bin/sh\nwc -l < \"$1\" | tr -d ' '\n")
    assert run() == ["count"]
