"""Damaged results are cache misses: the node is recomputed with a warning naming it,
never served, never a crash, never a failure blamed on the node that reads it."""

from __future__ import annotations

import io
import logging
import os
import pickle
from pathlib import Path
from typing import Callable

import pytest

from flowmill import CommandNode, File, Node, Workflow, WorkflowError
from flowmill.store.hashing import digest_bytes

MISSING_CLASS = b"cflowmill_no_such_module\nThing\n)\x81"
"""Pickle opcodes building an instance of a class whose module does not exist."""


def add(x: int, y: int = 2) -> int:
    return x + y


def ones(n: int) -> bytes:
    return b"\x01" * n


def length(data: bytes) -> int:
    return len(data)


def chain(base_dir: Path) -> Workflow:
    """a = 1 + 2 = 3, b = a + 2 = 5."""
    wf = Workflow("damage", base_dir=base_dir)
    a = Node(add, name="a")
    a.inputs.x = 1
    b = Node(add, name="b")
    wf.connect(a, "out", b, "x")
    return wf


def split(data: bytes) -> tuple[dict, bytes, bytes]:
    stream = io.BytesIO(data)
    header = pickle.load(stream)
    return header, data[:stream.tell()], data[stream.tell():]


def resealed(header: dict, payload: bytes) -> bytes:
    """A header that vouches for ``payload``: only unpickling can tell it is bad."""
    return pickle.dumps({**header, "checksum": digest_bytes(payload), "size": len(payload)}) + payload


def flip_value(data: bytes) -> bytes:
    """The small int output (opcode BININT1, ``K``) becomes another int: 3 -> 7, 5 -> 1."""
    _, head, payload = split(data)
    at = payload.index(b"K") + 1
    return head + payload[:at] + bytes([payload[at] ^ 4]) + payload[at + 1:]


def flip_checksum(data: bytes) -> bytes:
    header, head, payload = split(data)
    checksum = header["checksum"].encode()
    return head.replace(checksum, bytes([checksum[0] ^ 1]) + checksum[1:]) + payload


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated header": lambda data: data[:12],
    "truncated data": lambda data: data[:-3],
    "flipped byte in data": flip_value,
    "flipped byte in header": flip_checksum,
    "appended bytes": lambda data: data + b"\x00",
    "garbage": lambda data: bytes(range(256)) * 2,
    "empty file": lambda data: b"",
    "foreign pickle": lambda data: pickle.dumps(["not", "a", "result"]),
    "header with missing keys": lambda data: pickle.dumps({"hash": split(data)[0]["hash"]}) + split(data)[2],
    "header of a missing module": lambda data: MISSING_CLASS + b"." + split(data)[2],
    "outputs of a missing module": lambda data: resealed(split(data)[0], b"}(\x8c\x03out" + MISSING_CLASS + b"u."),
    "outputs of another node": lambda data: resealed(split(data)[0], pickle.dumps({"other": 3})),
}


@pytest.mark.parametrize("node", ["a", "b"])
@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_result_is_recomputed_with_a_warning(backend, tmp_path, caplog, kind, node):
    assert backend.run(chain(tmp_path))["b"].out == 5
    result = tmp_path / "damage" / node / "result.pkl"
    result.write_bytes(DAMAGE[kind](result.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="flowmill"):
        res = backend.run(chain(tmp_path))
    assert res.executed == [node] and res.failed == []
    assert res["a"].out == 3 and res["b"].out == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"node {node}: damaged result {result}")
    assert backend.run(chain(tmp_path)).cached == ["a", "b"]


def test_a_large_result_damaged_after_its_check_is_set_aside_and_recomputed_next(tmp_path):
    """Results over VERIFY_LIMIT are checked by size when reused and by checksum when
    loaded: the reader fails naming the damaged upstream, which the next run recomputes."""

    def build() -> Workflow:
        wf = Workflow("large", base_dir=tmp_path)
        big = Node(ones, name="big")
        big.inputs.n = 5 << 20
        wf.connect(big, "out", Node(length, name="length"), "data")
        return wf

    build().run()
    (tmp_path / "large/length/result.pkl").unlink()
    result = tmp_path / "large/big/result.pkl"
    data = bytearray(result.read_bytes())
    data[-100] ^= 0xFF
    result.write_bytes(bytes(data))
    with pytest.raises(WorkflowError, match=r"upstream node 'big' was damaged after it was checked "
                                            r"\(its outputs do not match their checksum\)"):
        build().run()
    assert not result.exists() and result.with_name("result.pkl.damaged").exists()
    res = build().run()
    assert res.executed == ["big", "length"] and res["length"].out == 5 << 20


def count_lines(path) -> int:
    with open(path) as handle:
        return len(handle.readlines())


def listing(base_dir: Path) -> Workflow:
    wf = Workflow("listing", base_dir=base_dir)
    seq = CommandNode(["seq", "{n}"], name="seq", inputs={"n": int}, outputs={"lines": "lines.txt"},
                      stdout="lines")
    seq.inputs.n = 11
    wf.connect(seq, "lines", Node(count_lines, name="count"), "path")
    return wf


@pytest.mark.parametrize("change", ["deleted", "edited", "touched"])
def test_a_command_output_deleted_or_edited_reruns_the_command(backend, tmp_path, change):
    assert backend.run(listing(tmp_path))["count"].out == 11
    lines = tmp_path / "listing/seq/lines.txt"
    if change == "deleted":
        lines.unlink()
    elif change == "edited":
        lines.write_text("1\n2\n3\n4\n")
    else:
        lines.write_text(lines.read_text())
    res = backend.run(listing(tmp_path))
    assert res["count"].out == 11
    assert res.executed == ([] if change == "touched" else ["seq"])


def make_tree() -> File:
    os.makedirs("tree/sub", exist_ok=True)
    Path("tree/sub/deep.txt").write_text("made")
    return "tree"


def test_an_output_directory_edited_deep_inside_reruns_its_node(backend, tmp_path):
    def build() -> Workflow:
        wf = Workflow("tree", base_dir=tmp_path)
        wf.add_nodes([Node(make_tree, name="make")])
        return wf

    deep = backend.run(build())["make"].out / "sub/deep.txt"
    assert backend.run(build()).cached == ["make"]
    deep.write_text("edited")
    res = backend.run(build())
    assert res.executed == ["make"] and res.why("make") == f"output file {tmp_path / 'tree/make/tree'} changed"
    assert deep.read_text() == "made"
