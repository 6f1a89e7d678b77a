"""Which run options a backend honours in each of its modes, and how, derived from
its :class:`~flowmill.backend.Capabilities`: what ``flowmill plugins`` shows and what
the README's table of run options per backend is generated from, so neither can
drift from what the core actually refuses or enforces."""

from __future__ import annotations

from typing import Any, Mapping

from .options import build_options
from .types import Backend, Capabilities

COLUMNS = ("retries", "timeout", "max_jobs", "stop_on_first_crash", "result_grace", "needs pickling", "shared FS")

TIMEOUT_HOW = {"cancel": "core cancel", "native": "native", "none": "no"}
"""How ``timeout`` is enforced: the core cancels the job when its time is up, the
backend stops it itself (a scheduler's run-time limit), or the option is refused."""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def support(capabilities: Capabilities) -> dict[str, str]:
    """One cell per column. Retries of lost jobs, ``stop_on_first_crash`` and the
    ``result_grace`` wait are decided by the core for both executor shapes, so every
    backend honours them; the other columns come from the capabilities."""
    return {
        "retries": "yes",
        "timeout": TIMEOUT_HOW[capabilities.timeouts],
        "max_jobs": _yes(capabilities.max_jobs),
        "stop_on_first_crash": "yes",
        "result_grace": "yes",
        "needs pickling": _yes(capabilities.needs_pickle),
        "shared FS": _yes(capabilities.shared_fs),
    }


def mode_label(mode: str, values: Mapping[str, Any]) -> str:
    chosen = ", ".join(f"{name}={value!r}" for name, value in values.items())
    return f"{mode} ({chosen})" if chosen else mode


def support_by_mode(backend: Backend) -> dict[str, dict[str, str]]:
    """The cells of each mode of ``backend``, its options at their defaults plus the
    mode's own, by mode label."""
    rows = {}
    for mode, values in backend.modes.items():
        options = build_options(backend.options, values, f"backend {backend.name!r} mode {mode!r}")
        rows[mode_label(mode, values)] = support(backend.capabilities_for(options))
    return rows
