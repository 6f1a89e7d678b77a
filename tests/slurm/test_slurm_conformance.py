"""The conformance battery, with its policy cases, on a real single-host Slurm, job by
job and as a graph of dependent jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowmill.testing import ConformanceSuite

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_no_leftovers")]


class TestSlurm(ConformanceSuite):
    backend = "slurm"
    chain_length = 20
    """Each dependent hop waits for the next scheduler pass and the next poll (~1 s)."""

    @pytest.fixture
    def run_options(self, slurm_run_options: dict[str, Any]) -> dict[str, Any]:
        return dict(slurm_run_options)

    def node_plugin_args(self) -> dict[str, Any] | None:
        return {"sbatch_args": "--comment=from-the-node"}

    def check_node_plugin_args(self, outcome: Any, tmp_path: Path) -> None:
        assert not isinstance(outcome, BaseException), outcome
        assert "--comment=from-the-node" in (tmp_path / "diamond" / "left" / "slurm_job.py").read_text()
        assert "--comment" not in (tmp_path / "diamond" / "top" / "slurm_job.py").read_text()


class TestSlurmGraph(TestSlurm):
    chain_length = 10
    fan_out_width = 50
    """Submission is shared with TestSlurm, which runs the full 200-wide fan-out; here
    width and depth are kept small for the CI budget (each afterok hop waits for a
    scheduler pass, about a second). bench/bench_slurm.py submits 200 in graph mode."""

    @pytest.fixture
    def mode_options(self) -> dict[str, Any]:
        return {"graph": True}
