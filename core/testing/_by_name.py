"""The battery bound to the backend named on ``python -m flowmill.testing``'s command line."""

from __future__ import annotations

import ast
import os
from typing import Any

import pytest

from ._suite import ConformanceSuite


class TestBackendByName(ConformanceSuite):
    backend = os.environ.get("FLOWMILL_CONFORMANCE_BACKEND", "")

    @pytest.fixture
    def run_options(self) -> dict[str, Any]:
        return ast.literal_eval(os.environ.get("FLOWMILL_CONFORMANCE_OPTIONS", "{}"))
