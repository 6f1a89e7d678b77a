"""The conformance battery on a real single-host Grid Engine, in each of the backend's
modes: job by job, and as a graph of held jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowmill import RunResult
from flowmill.testing import ConformanceSuite
from flowmill_sge import BACKEND

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


class _SGESuite(ConformanceSuite):
    backend = "sge"
    timeout_seconds = 5.0
    """h_rt counts from the job's start; the slow node must have started its child
    (a Python start and a worker on a loaded machine) before Grid Engine kills it."""
    settle_seconds = 5.0
    """The driver hears of a job's end at the next DRMAA event (~1 s on the test cell)."""

    @pytest.fixture
    def run_options(self, sge_run_options: dict[str, Any]) -> dict[str, Any]:
        return dict(sge_run_options)

    def node_plugin_args(self) -> dict[str, Any]:
        """An environment variable for one job (qsub -v) that makes its Python report its
        imports on stderr: what the job left in its log shows whose qsub_args it got."""
        return {"qsub_args": "-v PYTHONPROFILEIMPORTTIME=1"}

    def check_node_plugin_args(self, outcome: RunResult | BaseException, tmp_path: Path) -> None:
        assert isinstance(outcome, RunResult), outcome
        assert outcome["bottom"].out == 34
        logs = {name: (tmp_path / "diamond" / name / "sge.stderr").read_text() for name in ("left", "right")}
        assert "import time:" in logs["left"]
        assert "import time:" not in logs["right"]


class TestSGE(_SGESuite):
    chain_length = 20
    """Each dependent hop waits for the next scheduler run (~1 s with the test cell's
    1 s flush settings), so the 100-long chain alone would take two minutes."""


class TestSGEGraph(_SGESuite):
    chain_length = 10
    fan_out_width = 40
    """The graph executor submits through the same helper as TestSGE, which runs the
    full 200-wide fan-out; here width and depth are kept small to stay within the
    CI budget (each -hold_jid hop costs ~1 s, each wave of jobs ~1 s per slot).
    bench/bench_sge.py submits 1,000 jobs in graph mode."""

    @pytest.fixture
    def mode_options(self) -> dict[str, Any]:
        return dict(BACKEND.modes["graph"])
