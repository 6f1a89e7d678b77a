"""Paths given for parameters annotated as files are files: absolute, hashed by
content, checked to exist; Files a cached node returned are checked again before a
downstream node trusts their digest (the "grab node" of issue 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import pytest

from flowmill import File, Node, ValidationError, Workflow, WorkflowError


def read_file(path: File) -> tuple[str, str]:
    return type(path).__name__, Path(path).read_text()


def read_optional(path: File | None = None) -> tuple[str, str]:
    return type(path).__name__, "" if path is None else Path(path).read_text()


def read_old_optional(path: Optional[File]) -> tuple[str, str]:
    return type(path).__name__, Path(path).read_text()


def read_all(paths: list[File]) -> tuple[str, str]:
    return ",".join(type(p).__name__ for p in paths), "".join(Path(p).read_text() for p in paths)


READERS = {"File": read_file, "File | None": read_optional, "Optional[File]": read_old_optional}


def one(reader, value, base_dir: Path) -> Workflow:
    wf = Workflow("ann", base_dir=base_dir)
    node = Node(reader, name="read", outputs=["kind", "text"])
    node.inputs.path = value
    wf.add_nodes([node])
    return wf


@pytest.mark.parametrize("given", [str, Path])
@pytest.mark.parametrize("annotation", READERS)
def test_a_path_for_a_file_parameter_is_hashed_by_content(backend, tmp_path, annotation, given):
    data = tmp_path / "data.txt"
    data.write_text("one")
    res = backend.run(one(READERS[annotation], given(data), tmp_path))
    assert (res["read"].kind, res["read"].text) == ("File", "one")
    assert backend.run(one(READERS[annotation], given(data), tmp_path)).cached == ["read"]
    data.write_text("two")
    res = backend.run(one(READERS[annotation], given(data), tmp_path))
    assert res.executed == ["read"] and res["read"].text == "two"


def test_a_relative_path_is_taken_from_where_the_workflow_is_built_and_none_stays_none(tmp_path, monkeypatch):
    (tmp_path / "data.txt").write_text("here")
    monkeypatch.chdir(tmp_path)
    res = one(read_file, "data.txt", tmp_path / "work").run()
    assert (res["read"].kind, res["read"].text) == ("File", "here")
    res = one(read_optional, None, tmp_path / "work").run()
    assert (res["read"].kind, res["read"].text) == ("NoneType", "")


def test_a_list_of_paths_is_a_list_of_files(backend, tmp_path):
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for path, text in zip(paths, "ab"):
        path.write_text(text)
    wf = Workflow("ann", base_dir=tmp_path)
    node = Node(read_all, name="read", outputs=["kind", "text"])
    node.inputs.paths = [str(paths[0]), paths[1]]
    wf.add_nodes([node])
    assert (backend.run(wf)["read"].kind, backend.run(wf)["read"].text) == ("File,File", "ab")
    paths[1].write_text("B")
    res = backend.run(wf)
    assert res.executed == ["read"] and res["read"].text == "aB"


def test_a_missing_file_is_refused_naming_the_node_and_the_path(tmp_path):
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ValidationError, match=rf"node 'read': input 'path': file '{missing}' does not exist"):
        one(read_file, str(missing), tmp_path).run()
    assert not (tmp_path / "ann").exists()


def path_of(name: str) -> str:
    return name


def test_a_connected_path_becomes_a_file_and_must_exist(backend, tmp_path):
    (tmp_path / "data.txt").write_text("linked")

    def build(name: str) -> Workflow:
        wf = Workflow("linked", base_dir=tmp_path)
        source = Node(path_of, name="source")
        source.inputs.name = str(tmp_path / name)
        wf.connect(source, "out", Node(read_file, name="read", outputs=["kind", "text"]), "path")
        return wf

    res = backend.run(build("data.txt"))
    assert (res["read"].kind, res["read"].text) == ("File", "linked")
    with pytest.raises(WorkflowError) as info:
        backend.run(build("gone.txt"))
    crash = json.loads(info.value.failed[0].crash_file.read_text())
    assert crash["node"] == "read" and crash["error_type"] == "ValidationError"
    assert crash["error"] == f"input 'path': file '{tmp_path / 'gone.txt'}' does not exist"


def grab(subjects: list[str], root: str) -> list[File]:
    """Inputs that never change, outputs whose content does: nipype's DataGrabber."""
    return [os.path.join(root, f"{subject}.txt") for subject in subjects]


def total(values: list[File]) -> float:
    return sum(float(Path(path).read_text()) for path in values)


def study(root: Path, base_dir: Path) -> Workflow:
    wf = Workflow("study", base_dir=base_dir)
    files = Node(grab, name="grab")
    files.inputs.subjects = ["s1", "s2"]
    files.inputs.root = str(root)
    wf.connect(files, "out", Node(total, name="total"), "values")
    return wf


def test_a_file_a_cached_node_returned_is_checked_before_it_is_trusted(backend, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "s1.txt").write_text("1.0")
    (root / "s2.txt").write_text("2.0")
    assert backend.run(study(root, tmp_path))["total"].out == 3.0
    assert backend.run(study(root, tmp_path)).cached == ["grab", "total"]
    (root / "s2.txt").write_text("101.0")
    res = backend.run(study(root, tmp_path))
    assert res["total"].out == 102.0 and sorted(res.executed) == ["grab", "total"]


def write_relative() -> File:
    Path("made.txt").write_text("made")
    return "made.txt"


def test_a_relative_file_returned_is_in_the_node_directory(backend, tmp_path):
    wf = Workflow("made", base_dir=tmp_path)
    wf.add_nodes([Node(write_relative, name="make")])
    out = backend.run(wf)["make"].out
    assert isinstance(out, File) and out == File(tmp_path / "made/make/made.txt") and out.read_text() == "made"
