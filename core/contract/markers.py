"""The marker plugin authors decorate their hook functions with."""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("flowmill")
"""Marks a function as an implementation of a flowmill hook: ``@flowmill.hookimpl``."""
