"""examples/image_pipeline.py: real netpbm tools, installed by the example's own script,
run end to end from the command line and on every backend."""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def example() -> ModuleType:
    subprocess.run(["bash", str(EXAMPLES / "install_tools.sh")], check=True)
    spec = importlib.util.spec_from_file_location("image_pipeline", EXAMPLES / "image_pipeline.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def pgm_mean(path: Path) -> float:
    """The mean pixel of a binary PGM, computed here to check what pamsumm said."""
    data = path.read_bytes()
    magic, width, height = data.split(maxsplit=3)[:3]
    assert magic == b"P5"
    count = int(width) * int(height)
    return sum(data[-count:]) / count


def test_example_runs_from_the_command_line_and_reuses_its_cache(example: ModuleType, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(EXAMPLES / "image_pipeline.py"), "--base-dir", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "first run:  ran 21 nodes, reused 0 from the cache" in done.stdout
    assert "second run: ran 0 nodes, reused 21 from the cache" in done.stdout


def test_example_on_every_backend(example: ModuleType, backend, tmp_path: Path) -> None:
    scans = example.make_scans(tmp_path / "scans")
    res = backend.run(example.build(tmp_path, scans, [3, 7]))
    montages = [element.outputs.png for element in res["to_png"]]
    assert [png_size(png) for png in montages] == [(3 * 96, 96)] * 2
    for element in res["smooth"]:
        measured = next(m.outputs.mean for m in res["measure"] if m.params == element.params)
        assert float(measured.read_text()) == pytest.approx(pgm_mean(element.outputs.out_file), abs=1e-3)

    example.write_scan(scans[1], seed=99)
    again = backend.run(example.build(tmp_path, scans, [3, 7]))
    assert sorted(name.split("[")[0] for name in again.executed) == sorted(
        ["upsample", "smooth", "smooth", "measure", "measure", "montage", "montage", "to_png", "to_png",
         "table", "table"])
    assert len(again.cached) == 21 - 11
