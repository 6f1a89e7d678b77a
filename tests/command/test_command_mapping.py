"""Command tools under iterables, MapNode and JoinNode: each instance or element runs
the tool in its own directory and caches on its own."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from flowmill import CommandNode, CommandTask, File, JoinNode, MapNode, ValidationError, Workflow

GZIP = dict(inputs={"in_file": File, "level": (int, 6)}, outputs={"out_file": "{in_file.name}.gz"},
            stdout="out_file")
SHA = dict(inputs={"in_file": File}, outputs={"sums": "{in_file.name}.sha256"}, stdout="sums")


def inputs(directory: Path, count: int = 3) -> list[Path]:
    directory.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(directory / f"scan{i}.txt")
        paths[-1].write_text(f"scan {i}\n" * 200)
    return paths


def mapped(base_dir: Path, files: list[Path]) -> Workflow:
    wf = Workflow("mapped", base_dir=base_dir)
    pack = MapNode(CommandTask(["gzip", "-n", "-{level}", "-c", "{in_file}"], **GZIP), name="pack",
                   iterfield=["in_file"])
    pack.inputs.in_file = [str(path) for path in files]
    checksum = MapNode(CommandTask(["sha256sum", "{in_file}"], **SHA), name="checksum", iterfield="in_file")
    wf.connect(pack, "out_file", checksum, "in_file")
    return wf


def test_mapnode_runs_the_tool_per_element_and_reruns_only_a_changed_one(tmp_path: Path) -> None:
    files = inputs(tmp_path / "in")
    res = mapped(tmp_path / "work", files).run()
    archives = res["pack"].out_file
    assert [a.name for a in archives] == [f"scan{i}.txt.gz" for i in range(3)]
    assert len({a.parent for a in archives}) == 3  # one directory per element
    assert [gzip.decompress(a.read_bytes()) for a in archives] == [f.read_bytes() for f in files]
    sums = res["checksum"].sums
    assert [s.read_text().split()[1] for s in sums] == [str(a) for a in archives]

    files[1].write_text("rescanned\n")
    again = mapped(tmp_path / "work", files).run()
    assert sorted(again.executed) == ["checksum", "checksum#1", "pack", "pack#1"]
    assert {"pack#0", "pack#2", "checksum#0", "checksum#2"} <= set(again.cached)
    assert gzip.decompress(again["pack"].out_file[1].read_bytes()) == b"rescanned\n"


def test_mapnode_element_with_a_missing_file_fails_validation(tmp_path: Path) -> None:
    files = inputs(tmp_path / "in")
    wf = mapped(tmp_path / "work", [*files, tmp_path / "in" / "gone.txt"])
    with pytest.raises(ValidationError, match=r"node 'pack#3': input 'in_file': file '.*gone.txt' does not exist"):
        wf.run()


def test_iterables_sweep_a_command_and_a_join_collects_the_files(tmp_path: Path) -> None:
    files = inputs(tmp_path / "in", 2)
    wf = Workflow("swept", base_dir=tmp_path / "work")
    pack = CommandNode(["gzip", "-n", "-{level}", "-c", "{in_file}"], name="pack", **GZIP)
    pack.iterables = [("in_file", [str(path) for path in files]), ("level", [1, 9])]
    listing = JoinNode(CommandTask(["ls", "-1", "-U", "{archives}"], inputs={"archives": list[File]},
                                   outputs={"listing": "listing.txt"}, stdout="listing"),
                       name="listing", joinsource=pack, joinfield="archives")
    wf.connect(pack, "out_file", listing, "archives")
    res = wf.run()
    archives = [element.outputs.out_file for element in res["pack"]]
    assert len(archives) == 4 and len(set(archives)) == 4
    assert res["listing"].listing.read_text().splitlines() == [str(a) for a in archives]
    rerun = wf.run()
    assert rerun.executed == []
