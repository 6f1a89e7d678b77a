"""The README's Quick start does what it says: its first command's example pipeline
runs and reuses its whole result on the second run, and CI runs its second command,
so the command a new user is told to type is the one the suite is known to pass with."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests import doc_blocks

REPO = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    """The lines of the README's first sh block under "## Quick start"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    heading = text[:text.index("## Quick start")].count("\n") + 1
    block = next(block for block in doc_blocks.parse(text, "README.md")
                 if block.line > heading and block.lang == "sh")
    return block.code.splitlines()


def test_quick_start_is_two_commands_each_in_the_checkouts_venv():
    """Debian's pip refuses to install into the system Python (PEP 668), so both
    commands make and use ``.venv``."""
    commands = quick_start_commands()
    assert len(commands) == 2
    for command in commands:
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -r requirements"), command


def test_ci_runs_the_readmes_test_command(tmp_path):
    """Run on copies of .ci/run and the README, so that a .ci/run that ignored
    ``--print-command`` would fail here instead of installing and running the suite."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    done = subprocess.run(["bash", str(tmp_path / ".ci" / "run"), "--print-command"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == quick_start_commands()[1]
    assert done.stdout.strip().endswith(".venv/bin/python -m pytest")


def test_quickstart_example_runs_then_reuses_everything(tmp_path):
    """The example the first command runs: ten nodes, all run, then all reused."""
    assert quick_start_commands()[0].endswith(".venv/bin/python examples/quickstart.py")
    done = subprocess.run([sys.executable, str(REPO / "examples" / "quickstart.py"), "--base-dir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "first run:  ran 10 nodes, reused 0 from the cache" in lines
    assert "second run: ran 0 nodes, reused 10 from the cache" in lines
    assert f"results are in {tmp_path / 'quickstart'}" in lines
