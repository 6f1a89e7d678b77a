"""The battery bound to the backend named on ``python -m flowmill.testing``'s command line."""

from __future__ import annotations

import ast
import os
from typing import Any

import pytest

from ..contract.manager import find_backend
from ._suite import ConformanceSuite


_OPTIONS: dict[str, Any] = ast.literal_eval(os.environ.get("FLOWMILL_CONFORMANCE_OPTIONS", "{}"))


def _names_a_mode(backend: str, options: dict[str, Any]) -> bool:
    modes = find_backend(backend)[0].modes.values() if backend else ()
    return any(name in mode for mode in modes for name in options)


class TestBackendByName(ConformanceSuite):
    backend = os.environ.get("FLOWMILL_CONFORMANCE_BACKEND", "")
    per_mode = not _names_a_mode(backend, _OPTIONS)

    @pytest.fixture
    def run_options(self) -> dict[str, Any]:
        return dict(_OPTIONS)

    def node_plugin_args(self) -> dict[str, Any] | None:
        if not self.has_options():
            return None
        pytest.skip("the per-node plugin_args case needs a ConformanceSuite subclass that overrides "
                    "node_plugin_args and check_node_plugin_args")
