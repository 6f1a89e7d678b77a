"""A command node runs a real tool in its own directory and returns its output files."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from flowmill import CommandNode, File, Node, ValidationError, Workflow, WorkflowError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def compress(level: int = 6) -> CommandNode:
    return CommandNode(["gzip", "-{level}", "-c", "{in_file}"], name="compress",
                       inputs={"in_file": File, "level": (int, level)},
                       outputs={"out_file": "{in_file.name}.gz"}, stdout="out_file")


def test_tool_output_is_a_file_in_the_node_dir_with_logs(tmp_path: Path) -> None:
    source = write(tmp_path / "scan.txt", "voxel 1\n" * 500)
    wf = Workflow("run", base_dir=tmp_path / "work")
    node = compress()
    node.inputs.in_file = source
    wf.add_nodes([node])
    out = wf.run()["compress"].out_file
    node_dir = tmp_path / "work" / "run" / "compress"
    assert isinstance(out, File) and out == node_dir / "scan.txt.gz"
    assert gzip.decompress(out.read_bytes()) == source.read_bytes()
    assert (node_dir / "command.txt").read_text() == f"gzip -6 -c {source}\n"
    assert (node_dir / "stderr.txt").read_text() == ""


def test_relative_paths_are_files_of_the_directory_the_run_starts_in(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "rel.txt", "relative\n")
    node = compress()
    node.inputs.in_file = "rel.txt"
    wf = Workflow("rel", base_dir="work")
    wf.add_nodes([node])
    assert gzip.decompress(wf.run()["compress"].out_file.read_bytes()) == b"relative\n"


def test_list_values_splice_and_none_drops_an_argument(tmp_path: Path) -> None:
    parts = [write(tmp_path / f"part{i}.txt", f"{3 - i}\n") for i in range(3)]
    wf = Workflow("lists", base_dir=tmp_path / "work")
    merge = CommandNode(["sort", "{reverse}", "-o", "{out_file}", "{parts}"], name="merge",
                        inputs={"parts": list[File], "reverse": (str, None)},
                        outputs={"out_file": "merged.txt"})
    merge.inputs.parts = [str(p) for p in parts]
    merge_reversed = CommandNode(["sort", "{reverse}", "-o", "{out_file}", "{parts}"], name="merge_reversed",
                                 inputs={"parts": list[File], "reverse": (str, None)},
                                 outputs={"out_file": "merged.txt"})
    merge_reversed.inputs.parts = parts
    merge_reversed.inputs.reverse = "-r"
    wf.add_nodes([merge, merge_reversed])
    res = wf.run()
    assert res["merge"].out_file.read_text() == "1\n2\n3\n"
    assert res["merge_reversed"].out_file.read_text() == "3\n2\n1\n"
    assert (tmp_path / "work/lists/merge/command.txt").read_text().split() == \
        ["sort", "-o", str(tmp_path / "work/lists/merge/merged.txt"), *map(str, parts)]


def test_format_specs_and_outputs_downstream(tmp_path: Path) -> None:
    source = write(tmp_path / "data.txt", "abc\n")
    wf = Workflow("chain", base_dir=tmp_path / "work")
    pack = compress(level=1)
    pack.inputs.in_file = source
    checksum = CommandNode(["sha256sum", "{in_file}"], name="checksum", inputs={"in_file": File, "bits": (int, 256)},
                           outputs={"sums": "{in_file.stem}.sha{bits:03d}"}, stdout="sums")
    wf.connect(pack, "out_file", checksum, "in_file")
    res = wf.run()
    digest = hashlib.sha256(res["compress"].out_file.read_bytes()).hexdigest()
    sums = res["checksum"].sums
    assert sums.name == "data.txt.sha256"
    assert sums.read_text() == f"{digest}  {res['compress'].out_file}\n"


def test_env_is_added_to_the_environment(tmp_path: Path) -> None:
    wf = Workflow("env", base_dir=tmp_path / "work")
    node = CommandNode(["printenv", "FLOWMILL_GREETING", "HOME"], name="show",
                       outputs={"out": "env.txt"}, stdout="out", env={"FLOWMILL_GREETING": "hello there"})
    wf.add_nodes([node])
    lines = wf.run()["show"].out.read_text().splitlines()
    assert lines[0] == "hello there" and lines[1]  # HOME still comes from the caller's environment


def test_env_path_decides_where_the_executable_is_found(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = write(tools / "my-tool", "#!/bin/sh\necho from my-tool\n")
    tool.chmod(0o755)
    wf = Workflow("envpath", base_dir=tmp_path / "work")
    node = CommandNode(["my-tool"], outputs={"out": "o.txt"}, stdout="out", env={"PATH": f"{tools}:/usr/bin:/bin"})
    wf.add_nodes([node])
    assert wf.run()["my-tool"].out.read_text() == "from my-tool\n"


@pytest.mark.parametrize("kwargs, message", [
    ({"command": "gzip {in_file}"}, "must be a list of argument strings"),
    ({"command": ["{tool}", "x"], "inputs": {"tool": str}}, "must be a literal name"),
    ({"command": ["gzip", "{typo}"], "inputs": {"in_file": File}}, "refers to 'typo', which is not declared"),
    ({"command": ["gzip", "{in_file"], "inputs": {"in_file": File}}, "malformed"),
    ({"command": ["gzip"], "outputs": {"a": "x", "b": "{a}.gz"}}, "may refer to inputs only"),
    ({"command": ["gzip"], "stdout": "out"}, "must name a declared output"),
    ({"command": ["gzip"], "inputs": {"x": int}, "outputs": {"x": "x"}}, "both as inputs and as outputs"),
    ({"command": ["gzip"], "inputs": {"x": 3}}, "is not a type"),
    ({"command": ["gzip"], "timeout": 0}, "positive number"),
    ({"command": ["gzip"], "env": {"A": 1}}, "env must map names to strings"),
    ({"command": ["gzip"], "shell": True}, "one shell command line"),
])
def test_declaration_errors_are_raised_when_the_node_is_made(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CommandNode(**kwargs)


def test_setting_an_input_of_the_wrong_type_fails_validation(tmp_path: Path) -> None:
    wf = Workflow("types", base_dir=tmp_path / "work")
    node = compress()
    node.inputs.in_file = write(tmp_path / "x.txt", "x")
    node.inputs.level = "9"
    wf.add_nodes([node])
    with pytest.raises(ValidationError, match=r"node 'compress': input 'level' is declared int, got str '9'"):
        wf.run()
    with pytest.raises(ValidationError, match="has no input 'lvl'"):
        node.inputs.lvl = 9


def test_outputs_may_live_in_sub_directories_of_the_node_dir_only(tmp_path: Path) -> None:
    wf = Workflow("subdirs", base_dir=tmp_path / "work")
    inside = CommandNode(["touch", "{out}"], name="inside", outputs={"out": "deep/er/made.txt"})
    wf.add_nodes([inside])
    assert wf.run()["inside"].out == tmp_path / "work/subdirs/inside/deep/er/made.txt"
    for template in ["../outside.txt", "/tmp/outside.txt", "result.pkl", "sub/../../x"]:
        wf = Workflow("escape", base_dir=tmp_path / "work")
        wf.add_nodes([CommandNode(["touch", "{out}"], name="outside", outputs={"out": template})])
        with pytest.raises(ValidationError, match="not a file of its own inside the node directory"):
            wf.run()


def test_output_names_made_from_connected_values_are_checked_when_the_node_runs(tmp_path: Path) -> None:
    wf = Workflow("late", base_dir=tmp_path / "work")
    made = CommandNode(["touch", "{out}"], name="made", outputs={"out": "made.txt"})
    use = CommandNode(["touch", "{out}"], name="use", inputs={"upstream": File},
                      outputs={"out": "{upstream.parent}/x"})
    wf.connect(made, "out", use, "upstream")
    with pytest.raises(WorkflowError, match="not a file of its own inside the node directory"):
        wf.run()
    assert not list(tmp_path.rglob("x"))


def test_a_relative_executable_path_means_the_directory_the_node_was_made_in(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bin").mkdir()
    write(tmp_path / "bin" / "hello", "#!/bin/sh\necho hello from $0\n").chmod(0o755)
    node = CommandNode(["bin/hello"], name="hello", outputs={"out": "o.txt"}, stdout="out")
    wf = Workflow("relexe", base_dir=tmp_path / "work")
    wf.add_nodes([node])
    assert wf.run()["hello"].out.read_text() == f"hello from {tmp_path}/bin/hello\n"


def test_a_connected_value_of_the_wrong_type_fails_the_node_when_it_runs(tmp_path: Path) -> None:
    def numbers() -> list[int]:
        return [1, 2]

    wf = Workflow("late_types", base_dir=tmp_path / "work")
    use = CommandNode(["cat", "{files}"], name="use", inputs={"files": list[File]}, outputs={"o": "o"}, stdout="o")
    wf.connect(Node(numbers, name="numbers"), "out", use, "files")
    with pytest.raises(WorkflowError) as info:
        wf.run()
    assert "CommandError: input 'files' is declared list[File] (an absolute flowmill.File), got list [1, 2]" \
        in str(info.value)
