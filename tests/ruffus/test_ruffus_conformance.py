"""The ruffus backend passes the conformance battery with processes and with threads."""

from typing import Any

import pytest

from flowmill.testing import ConformanceSuite


class TestRuffusMultiprocess(ConformanceSuite):
    backend = "ruffus"

    @pytest.fixture
    def run_options(self, ruffus_run_options: dict[str, Any]) -> dict[str, Any]:
        return ruffus_run_options


class TestRuffusMultithread(ConformanceSuite):
    backend = "ruffus"

    @pytest.fixture
    def run_options(self) -> dict[str, Any]:
        return {"n_procs": 2, "mode": "multithread"}
