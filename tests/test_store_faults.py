"""Store write failures are node failures: a node whose result, crash file or outputs
cannot be written fails with a crash record naming it and the path (in a fallback
place when its own directory is unwritable), and independent nodes go on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from flowmill import CommandNode, Node, Workflow, WorkflowError


def constant(x: int = 1) -> int:
    return x


def big(size: int) -> bytes:
    return bytes(size)


def _mount(target: Path, *options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(target)], check=True,
                   capture_output=True)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system (tmpfs; needs root, as in the test container)."""
    target = tmp_path / "small"
    target.mkdir()
    try:
        _mount(target, "size=1m")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False)


def _read_only(node_dir: Path) -> None:
    """Make an (empty) node directory unwritable, even for root (a read-only mount)."""
    node_dir.mkdir(parents=True)
    if os.geteuid() != 0:
        node_dir.chmod(0o555)
        return
    try:
        _mount(node_dir, "ro,size=64k")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a read-only tmpfs here: {exc}")


def _flowmill_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowmill", *args], capture_output=True, text=True)


def test_read_only_node_directory_fails_that_node_only(tmp_path):
    wf = Workflow("ro", base_dir=tmp_path)
    wf.add_nodes([Node(constant, name="a"), Node(constant, name="b")])
    a_dir = tmp_path / "ro" / "a"
    _read_only(a_dir)
    try:
        with pytest.raises(WorkflowError) as info:
            wf.run()
    finally:
        subprocess.run(["umount", "-l", str(a_dir)], check=False, capture_output=True)
    assert info.value.result.executed == ["b"]
    [failed] = info.value.failed
    assert failed.name == "a" and str(a_dir) in failed.error and "Read-only file system" in failed.error
    assert failed.crash_file == tmp_path / "ro" / ".flowmill" / "crashes" / failed.crash_file.name
    shown = _flowmill_cli("crash", str(a_dir))
    assert shown.returncode == 0, shown.stderr
    assert "Node:      a" in shown.stdout and "Read-only file system" in shown.stdout


def test_a_command_filling_the_disk_fails_alone_and_its_output_is_removed(small_fs):
    wf = Workflow("full", base_dir=small_fs)
    fill = CommandNode("head -c 4000000 /dev/zero > {out}", name="fill", shell=True, outputs={"out": "zeros.bin"})
    wf.add_nodes([fill, *(Node(constant, name=name) for name in "bcd")])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    assert sorted(info.value.result.executed) == ["b", "c", "d"]
    [failed] = info.value.failed
    assert failed.name == "fill" and failed.crash_file.is_file()
    assert not (small_fs / "full" / "fill" / "zeros.bin").exists()


def test_a_result_too_big_for_the_disk_fails_that_node_naming_the_path(small_fs):
    wf = Workflow("bigresult", base_dir=small_fs)
    node = Node(big, name="big")
    node.inputs.size = 4_000_000
    wf.add_nodes([node, Node(constant, name="b")])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    assert info.value.result.executed == ["b"]
    [failed] = info.value.failed
    assert failed.name == "big" and "No space left on device" in failed.error
    assert str(small_fs / "bigresult" / "big" / "result.pkl") in failed.error
    assert failed.crash_file.is_file()
