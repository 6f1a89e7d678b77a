"""Shared test wiring.

Each backend contributes ``tests/fixtures/<name>.py`` defining a fixture
``<name>_run_options`` that returns the options a workflow needs to run on that
backend (starting whatever cluster it needs, once per session). Tests that must pass
on every bundled backend take the ``backend`` fixture, parametrized over them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowmill.testing import restore_sigint

FIXTURES = Path(__file__).parent / "fixtures"
BACKENDS = sorted(path.stem for path in FIXTURES.glob("*.py") if not path.stem.startswith("_"))

pytest_plugins = [f"tests.fixtures.{name}" for name in BACKENDS]


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C tests need SIGINT delivered, here and in the drivers they start, also
    when the suite was started in a non-interactive shell's background."""
    restore_sigint()


class BackendUnderTest:
    """A backend name and the options that reach its cluster, ready for ``wf.run``."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    def run(self, wf: Any, **extra: Any) -> Any:
        return wf.run(plugin=self.name, **{**self.options, **extra})

    def __repr__(self) -> str:
        return f"BackendUnderTest({self.name!r})"


CLUSTER_MARKS = {"sge", "slurm", "ipython"}
"""Backends whose runs need a cluster: their variants carry its marker, so that
``-m "not sge"`` leaves the Grid Engine alone here as in the SGE suite."""


@pytest.fixture(params=[pytest.param(name, marks=[getattr(pytest.mark, name)] if name in CLUSTER_MARKS else [])
                        for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> BackendUnderTest:
    return BackendUnderTest(request.param, request.getfixturevalue(f"{request.param}_run_options"))
