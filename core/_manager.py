"""The plugin manager: finds backends and observers, checks their contract version,
and picks a backend by name for a run."""

from __future__ import annotations

import logging
from typing import Any

import pluggy

from . import hookspecs
from ._contract import CONTRACT_VERSION, Backend
from ._errors import PluginError

ENTRY_POINT_GROUP = "flowmill.plugins"

BUNDLED_DISTRIBUTIONS = {
    "linear": "flowmill-linear",
    "ipython": "flowmill-ipython",
    "sge": "flowmill-sge",
    "ruffus": "flowmill-ruffus",
}
"""Backends shipped in the flowmill repository, and the distribution providing each,
so that a missing one is reported with what to install."""

log = logging.getLogger("flowmill")

_manager: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager; entry points are loaded on first use only."""
    global _manager
    if _manager is None:
        manager = pluggy.PluginManager("flowmill")
        manager.add_hookspecs(hookspecs)
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        _manager = manager
    return _manager


def register(plugin: object, name: str | None = None) -> str | None:
    """Register a plugin object or module in code (tests, notebooks, observers)."""
    return plugin_manager().register(plugin, name=name)


def unregister(plugin: object) -> None:
    plugin_manager().unregister(plugin)


def distribution_of(plugin: object) -> str:
    for plugin_obj, dist in plugin_manager().list_plugin_distinfo():
        if plugin_obj is plugin:
            return f"{dist.metadata['name']} {dist.version}"
    return "registered in code"


def installed_backends() -> dict[str, tuple[Backend, object]]:
    """Every declared backend by name, with the plugin that declared it."""
    backends: dict[str, tuple[Backend, object]] = {}
    hook = plugin_manager().hook.flowmill_backends
    for impl in hook.get_hookimpls():
        for backend in impl.function() or ():
            if backend.name in backends:
                other = distribution_of(backends[backend.name][1])
                raise PluginError(f"backend {backend.name!r} is declared twice: by {other} and by "
                                  f"{distribution_of(impl.plugin)}; uninstall one of them")
            backends[backend.name] = (backend, impl.plugin)
    return backends


def find_backend(name: str) -> tuple[Backend, object]:
    backends = installed_backends()
    if name not in backends:
        installed = ", ".join(sorted(backends)) or "none"
        hint = ""
        if name in BUNDLED_DISTRIBUTIONS:
            hint = (f" The {name!r} backend is provided by the distribution "
                    f"{BUNDLED_DISTRIBUTIONS[name]}: pip install {BUNDLED_DISTRIBUTIONS[name]} "
                    f"(in the flowmill repository: pip install -e plugins/{name}).")
        raise PluginError(f"no backend named {name!r} is installed. Installed backends: {installed}.{hint}")
    backend, plugin = backends[name]
    if backend.contract != CONTRACT_VERSION:
        raise PluginError(
            f"backend {name!r} ({distribution_of(plugin)}) was written for flowmill plugin contract "
            f"{backend.contract}, but this flowmill speaks contract {CONTRACT_VERSION}: install a "
            f"release of {distribution_of(plugin).split()[0]} made for contract {CONTRACT_VERSION}, "
            "or a flowmill matching the plugin")
    return backend, plugin


def make_executor(backend: Backend, options: Any, context: Any) -> Any:
    executor = plugin_manager().hook.flowmill_make_executor(backend=backend, options=options, context=context)
    if executor is None:
        raise PluginError(f"backend {backend.name!r} is declared but no plugin built an executor for it")
    return executor


def notify(event: str, **kwargs: Any) -> None:
    """Call every observer of ``event`` in turn; one that raises is logged and skipped,
    so a broken progress display never breaks a run."""
    for impl in getattr(plugin_manager().hook, event).get_hookimpls():
        try:
            impl.function(*[kwargs[arg] for arg in impl.argnames])
        except Exception:
            log.exception("flowmill observer %s.%s failed (ignored)", impl.plugin_name, event)
