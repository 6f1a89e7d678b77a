"""Ctrl-C tests work in a session started with SIGINT ignored (``cmd &`` in a
non-interactive shell): the kit's Ctrl-C case and this suite's session put Python's
handler back. Each test runs a small pytest in a child process whose SIGINT is
ignored before Python starts, as such a shell leaves it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

KIT_CASE = '''
from flowmill.testing import ConformanceSuite


class TestLinear(ConformanceSuite):
    backend = "linear"
'''

SESSION_CASE = '''
import os, signal, subprocess, sys, time

import pytest


def test_ctrl_c_reaches_the_session_and_the_drivers_it_starts():
    child = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    assert subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout == "True\\n"
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)
'''


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``directory`` (its own rootdir: this repository's conftest and
    configuration do not apply unless loaded with ``-p``), SIGINT ignored."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(directory), *args], cwd=directory, env=env, preexec_fn=_ignore_sigint,
                          capture_output=True, text=True, timeout=300)


def test_the_kits_ctrl_c_case_passes_with_sigint_ignored(tmp_path):
    (tmp_path / "test_kit.py").write_text(KIT_CASE)
    done = _pytest(tmp_path, "-k", "ctrl_c", "test_kit.py")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_the_suites_session_delivers_ctrl_c_with_sigint_ignored(tmp_path):
    (tmp_path / "test_session.py").write_text(SESSION_CASE)
    done = _pytest(tmp_path, "-p", "tests.conftest", "test_session.py")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
