"""The ipython backend passes the conformance battery on a cluster started by
``ipcluster start`` (see tests/fixtures/ipython.py); its 200-node fan-out is the one
the issue asks for."""

from typing import Any

import pytest

from flowmill.testing import ConformanceSuite


class TestIPython(ConformanceSuite):
    backend = "ipython"

    @pytest.fixture
    def run_options(self, ipython_run_options: dict[str, Any]) -> dict[str, Any]:
        return ipython_run_options
