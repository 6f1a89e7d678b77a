"""The ipython backend passes the conformance battery on a cluster started by
``ipcluster start`` (see tests/fixtures/ipython.py); its 200-node fan-out is the one
the issue asks for. The cases that kill the process running a job kill an engine,
which does not come back: they run on a temporary cluster of their own, which the
backend starts for the run and stops after it."""

from pathlib import Path
from typing import Any

import pytest

from flowmill.testing import ConformanceSuite

pytestmark = pytest.mark.ipython


class TestIPython(ConformanceSuite):
    backend = "ipython"
    per_mode = True

    @pytest.fixture
    def run_options(self, ipython_run_options: dict[str, Any]) -> dict[str, Any]:
        return ipython_run_options

    @pytest.fixture
    def lossy_options(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        """Three engines: the lost-beyond-retries case kills two."""
        monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython-dir"))
        return {"n_engines": 3}

    def node_plugin_args(self) -> None:
        """Every ipython option names the run's cluster or sizes its queue: none
        applies to one node (a node's ipython plugin_args change nothing)."""
        return None
