"""The conformance battery on a real single-host Grid Engine, job by job and as a
graph of held jobs."""

from __future__ import annotations

from typing import Any

import pytest

from flowmill.testing import ConformanceSuite

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


class TestSGE(ConformanceSuite):
    backend = "sge"
    chain_length = 20
    """Each dependent hop waits for the next scheduler run (~1 s with the test cell's
    1 s flush settings), so the 100-long chain alone would take two minutes."""

    @pytest.fixture
    def run_options(self, sge_run_options: dict[str, Any]) -> dict[str, Any]:
        return dict(sge_run_options)


class TestSGEGraph(ConformanceSuite):
    backend = "sge"
    chain_length = 10
    fan_out_width = 40
    """The graph executor submits through the same helper as TestSGE, which runs the
    full 200-wide fan-out; here width and depth are kept small to stay within the
    CI budget (each -hold_jid hop costs ~1 s, each wave of jobs ~1 s per slot).
    bench/bench_sge.py submits 1,000 jobs in graph mode."""

    @pytest.fixture
    def run_options(self, sge_run_options: dict[str, Any]) -> dict[str, Any]:
        return {**sge_run_options, "graph": True}
