"""flowmill's conformance kit: the battery of real workflows every backend must pass.

Use it from a test module (subclass :class:`ConformanceSuite` and set ``backend``) or
from the shell: ``python -m flowmill.testing NAME [--option key=value ...] [-- pytest args]``.
Its modules are registered for pytest's assertion rewriting and load on first use
(also after ``python -m flowmill.testing`` started pytest), so a failing case shows
the values it compared.
"""

import pytest

from .._lazy import lazy_names

pytest.register_assert_rewrite("flowmill.testing._suite", "flowmill.testing._policy")

_EXPORTS = {
    "BrokenObserver": "._events",
    "ConformanceSuite": "._suite",
    "EventLog": "._events",
    "FakeBatch": "._fakebatch",
    "FakeBatchPlugin": "._fakebatch_backend",
    "KitDeadline": "._deadline",
    "restore_sigint": "._signals",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_names("flowmill.testing", _EXPORTS, globals())
