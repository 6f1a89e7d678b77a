"""The linear backend passes the conformance battery."""

from flowmill.testing import ConformanceSuite


class TestLinear(ConformanceSuite):
    backend = "linear"
    per_mode = True
