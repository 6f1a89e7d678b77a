"""The ruffus backend passes the conformance battery in each of its modes: worker
processes and threads."""

from pathlib import Path
from typing import Any

import pytest

from flowmill import PluginError, RunResult
from flowmill.testing import ConformanceSuite


class TestRuffus(ConformanceSuite):
    backend = "ruffus"
    per_mode = True

    @pytest.fixture
    def run_options(self, ruffus_run_options: dict[str, Any]) -> dict[str, Any]:
        return {"n_procs": ruffus_run_options["n_procs"]}

    def node_plugin_args(self) -> dict[str, Any]:
        return {"n_procs": 1}

    def check_node_plugin_args(self, outcome: RunResult | BaseException, tmp_path: Path) -> None:
        """Ruffus schedules the graph as one pipeline: a node's own n_procs is refused
        up front, naming the node, before anything runs."""
        assert isinstance(outcome, PluginError)
        assert "node(s) left set ruffus options in plugin_args" in str(outcome)
        assert not (tmp_path / "diamond" / "top" / "result.pkl").exists()
