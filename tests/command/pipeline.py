"""What the command tests share: a small pipeline of real tools (per subject, gzip a
file then checksum the archive; then sort every checksum into one manifest), and a
real tool that fails."""

from __future__ import annotations

from pathlib import Path

from flowmill import CommandNode, File, Workflow

SUBJECTS = ("a", "b")
PER_SUBJECT = ("gzip_a", "sum_a", "gzip_b", "sum_b")


def make_inputs(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for subject in SUBJECTS:
        files[subject] = directory / f"{subject}.txt"
        files[subject].write_text(f"subject {subject}\n" * 1000)
    return files


def build(base_dir: Path, inputs: dict[str, Path], level: int = 6, name: str = "tools") -> Workflow:
    wf = Workflow(name, base_dir=base_dir)
    manifest = CommandNode(["sort", "-o", "{out_file}", *(f"{{sums_{s}}}" for s in inputs)], name="manifest",
                           inputs={f"sums_{s}": File for s in inputs}, outputs={"out_file": "manifest.txt"})
    for subject, path in inputs.items():
        pack = CommandNode(["gzip", "-n", "-{level}", "-c", "{in_file}"], name=f"gzip_{subject}",
                           inputs={"in_file": File, "level": (int, 6)}, outputs={"out_file": "{in_file.name}.gz"},
                           stdout="out_file")
        pack.inputs.in_file = path
        pack.inputs.level = level
        checksum = CommandNode(["sha256sum", "{in_file}"], name=f"sum_{subject}", inputs={"in_file": File},
                               outputs={"sums": "{in_file.name}.sha256"}, stdout="sums")
        wf.connect([(pack, checksum, [("out_file", "in_file")]), (checksum, manifest, [("sums", f"sums_{subject}")])])
    return wf


def expected_manifest(base_dir: Path, inputs: dict[str, Path], name: str = "tools") -> str:
    """What the manifest must say, computed in Python from the inputs alone."""
    import gzip
    import hashlib

    lines = []
    for subject, path in inputs.items():
        archive = base_dir / name / f"gzip_{subject}" / f"{path.name}.gz"
        assert gzip.decompress(archive.read_bytes()) == path.read_bytes()
        lines.append(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive}\n")
    return "".join(sorted(lines))


def failing_gunzip(directory: Path) -> tuple[CommandNode, Path]:
    """``gzip -d`` of a text file: exits with status 1, saying why on stderr."""
    plain = directory / "plain.txt"
    plain.write_text("this is not gzip data\n")
    node = CommandNode(["gzip", "-d", "-c", "{in_file}"], name="gunzip", inputs={"in_file": File},
                       outputs={"out": "plain"}, stdout="out")
    node.inputs.in_file = plain
    return node, plain


def process_alive(pid: int) -> bool:
    """Whether a process still runs (a zombie waiting for its parent does not count)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
