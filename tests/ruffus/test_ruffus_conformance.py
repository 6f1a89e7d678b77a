"""The ruffus backend passes the conformance battery in each of its modes: worker
processes and threads."""

import subprocess
import sys
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


def test_kit_by_name_takes_options_then_pytest_args() -> None:
    """``python -m flowmill.testing NAME --option k=v -- PYTEST ARGS``: options before
    ``--``, pytest's arguments after it (argparse used to reject this order)."""
    done = subprocess.run([sys.executable, "-m", "flowmill.testing", "ruffus", "--option", "n_procs=2", "--",
                           "-k", "diamond", "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout  # the diamond, once per mode
