"""The multiproc backend passes the conformance battery, policy cases included."""

from typing import Any

import pytest

from flowmill.testing import ConformanceSuite


class TestMultiProc(ConformanceSuite):
    backend = "multiproc"
    per_mode = True

    @pytest.fixture
    def run_options(self, multiproc_run_options: dict[str, Any]) -> dict[str, Any]:
        return multiproc_run_options
