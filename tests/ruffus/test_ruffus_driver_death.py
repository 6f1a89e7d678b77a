"""Nothing Ruffus started outlives a driver killed by SIGKILL: the manager, the pool
workers and their sandboxes are gone within 10 s, and no queued node starts."""

from __future__ import annotations

import pytest

from ..driver_death import kill_mid_run


@pytest.mark.parametrize("mode", ["multiprocess", "multithread"])
def test_a_killed_driver_leaves_no_ruffus_process(tmp_path, mode):
    aftermath = kill_mid_run(tmp_path / "markers", "ruffus", "n_procs=2", f"mode={mode!r}", wait=10)
    assert aftermath.left == []
    assert aftermath.started_after == set() and aftermath.finished_after == set()
