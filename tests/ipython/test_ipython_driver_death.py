"""A temporary cluster does not outlive a driver killed by SIGKILL: its watcher kills
the controller, engines and nannies within seconds (so queued nodes never start) and
removes the profile directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..driver_death import kill_mid_run

pytestmark = pytest.mark.ipython


def test_a_killed_driver_leaves_no_temporary_cluster(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"IPYTHONDIR": str(tmp_path / "ipython-dir"), "TMPDIR": str(temp)}
    aftermath = kill_mid_run(tmp_path / "markers", "ipython", "n_engines=2", mentioning=str(temp), env=env)
    assert aftermath.left == []
    assert aftermath.started_after == set() and aftermath.finished_after == set()
    assert not list(temp.glob("flowmill-ipython-*"))
