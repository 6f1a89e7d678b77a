"""flowmill's conformance kit: the battery of real workflows every backend must pass.

Use it from a test module (subclass :class:`ConformanceSuite` and set ``backend``) or
from the shell: ``python -m flowmill.testing NAME [--option key=value ...]``.
"""

from ._suite import BrokenObserver, ConformanceSuite, EventLog

__all__ = ["BrokenObserver", "ConformanceSuite", "EventLog"]
