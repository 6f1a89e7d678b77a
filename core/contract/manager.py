"""The plugin manager: loads plugins, reports broken ones by their distribution's name
while the others keep working, picks a backend by name, and calls hooks through
pluggy (so wrappers, ``tryfirst`` and ``trylast`` work for observers)."""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import logging
from typing import Any, Callable

import pluggy

from .. import hookspecs
from .._errors import PluginError
from .types import CONTRACT_VERSION, Backend

ENTRY_POINT_GROUP = "flowmill.plugins"
HOOK_PREFIX = "flowmill_"

BUNDLED_DISTRIBUTIONS = {
    "linear": "flowmill-linear",
    "ipython": "flowmill-ipython",
    "sge": "flowmill-sge",
    "ruffus": "flowmill-ruffus",
    "multiproc": "flowmill-multiproc",
    "slurm": "flowmill-slurm",
}
"""Backends shipped in the flowmill repository, and the distribution providing each,
so that a missing one is reported with what to install."""

BUILTIN_OBSERVERS = {
    "flowmill.log": "flowmill.observers.log",
    "flowmill.records": "flowmill.observers.records",
    "flowmill.progress": "flowmill.observers.progress",
}
"""The core's own observers: plugin name -> module whose ``PLUGIN`` is registered when
the plugin manager starts. Loaded by module name, as pytest loads its built-in plugins
and as entry points are loaded, so the stages never import the observers, which sit
above them. Unregister one to replace it, e.g.
``flowmill.plugin_manager().unregister(name="flowmill.progress")``."""

OBSERVER_HOOKS = frozenset(name for name in dir(hookspecs)
                           if name.startswith(HOOK_PREFIX) and name not in ("flowmill_backends",
                                                                           "flowmill_make_executor"))

log = logging.getLogger("flowmill")


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, with two rules of flowmill's: a plugin implementing a hook
    that does not exist is refused with the name it probably meant, and an observer
    that raises is logged and ignored, so a broken progress display never breaks a run."""

    def __init__(self) -> None:
        super().__init__("flowmill")
        self.add_hookspecs(hookspecs)
        self.broken: dict[str, str] = {}
        """Plugin distributions that failed to load, by name, with the reason."""
        self.distributions: dict[int, str] = {}
        """``name version`` of the distribution of each plugin loaded from an entry point."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        try:
            registered = super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            self._forget(plugin)
            raise PluginError(str(exc)) from None
        if registered is None:
            return None
        unknown = [hook for hook, _ in self._hookimpls_of(plugin) if not getattr(self.hook, hook).has_spec()]
        if unknown:
            self._forget(plugin)
            hook = unknown[0]
            guess = difflib.get_close_matches(hook, hookspecs_names(), n=1)
            raise PluginError(f"plugin {registered!r} implements {hook!r}, which is not a flowmill hook"
                              + (f"; did you mean {guess[0]!r}?" if guess else ""))
        for hook, impl in self._hookimpls_of(plugin):
            if hook in OBSERVER_HOOKS and not (impl.wrapper or impl.hookwrapper):
                impl.function = _guarded(impl.function, registered, hook)
        return registered

    def _forget(self, plugin: object) -> None:
        """Undo what pluggy kept of a plugin it refused halfway through registering
        (the hooks validated before the bad one), so none of it is ever called."""
        if self.is_registered(plugin):
            super().unregister(plugin)

    def _hookimpls_of(self, plugin: object) -> list[tuple[str, pluggy.HookImpl]]:
        return [(caller.name, impl) for caller in self.get_hookcallers(plugin) or ()
                for impl in caller.get_hookimpls() if impl.plugin is plugin]

    def load_builtins(self) -> None:
        """Register the core's own observers (``BUILTIN_OBSERVERS``)."""
        for name, module in BUILTIN_OBSERVERS.items():
            self.register(importlib.import_module(module).PLUGIN, name=name)

    def load_entry_points(self) -> None:
        """Load every plugin of the ``flowmill.plugins`` group; one that fails to import
        or to register is remembered in ``broken`` and logged, never fatal."""
        for dist in importlib.metadata.distributions():
            for entry in dist.entry_points:
                if entry.group != ENTRY_POINT_GROUP or self.get_plugin(entry.name) is not None:
                    continue
                label = f"{dist.metadata['name']} {dist.version}"
                try:
                    self.register(entry.load(), name=entry.name)
                except Exception as exc:
                    self.broken[label] = f"{type(exc).__name__}: {exc}"
                    log.warning("flowmill plugin %s (entry point %r) is broken and was not loaded: %s", label,
                                entry.name, self.broken[label])
                else:
                    self.distributions[id(self.get_plugin(entry.name))] = label


def hookspecs_names() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith(HOOK_PREFIX)]


def _guarded(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception:
            log.exception("flowmill observer %s.%s failed (ignored)", plugin, hook)
            return None

    return guarded


_manager: PluginManager | None = None


def plugin_manager() -> PluginManager:
    """The process-wide plugin manager; entry points are loaded on first use only."""
    global _manager
    if _manager is None:
        manager = PluginManager()
        manager.load_builtins()
        manager.load_entry_points()
        _manager = manager
    return _manager


def register(plugin: object, name: str | None = None) -> str | None:
    """Register a plugin object or module in code (tests, notebooks, observers)."""
    return plugin_manager().register(plugin, name=name)


def unregister(plugin: object) -> None:
    plugin_manager().unregister(plugin)


def distribution_of(plugin: object) -> str:
    return plugin_manager().distributions.get(id(plugin), "registered in code")


def installed_backends() -> dict[str, tuple[Backend, object]]:
    """Every declared backend by name, with the plugin that declared it. A plugin
    whose declaration fails is reported as broken; the others stay usable."""
    manager = plugin_manager()
    backends: dict[str, tuple[Backend, object]] = {}
    for impl in manager.hook.flowmill_backends.get_hookimpls():
        try:
            declared = list(impl.function() or ())
        except Exception as exc:
            label = distribution_of(impl.plugin)
            manager.broken[label] = f"flowmill_backends raised {type(exc).__name__}: {exc}"
            log.warning("flowmill plugin %s is broken: %s", label, manager.broken[label])
            continue
        for backend in declared:
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
        broken = plugin_manager().broken
        if broken:
            hint += " Broken plugins that may provide it: " + "; ".join(f"{dist} ({why})"
                                                                      for dist, why in broken.items())
        raise PluginError(f"no backend named {name!r} is installed. Installed backends: {installed}.{hint}")
    backend, plugin = backends[name]
    if backend.contract != CONTRACT_VERSION:
        raise PluginError(
            f"backend {name!r} ({distribution_of(plugin)}) was written for flowmill plugin contract "
            f"{backend.contract}, but this flowmill speaks contract {CONTRACT_VERSION}: install a "
            f"release of {distribution_of(plugin).split()[0]} made for contract {CONTRACT_VERSION}, "
            "or a flowmill matching the plugin")
    return backend, plugin


def make_executor(backend: Backend, plugin: object, options: Any, context: Any) -> Any:
    """Build the executor through the hook of the plugin that declared the backend only,
    so another plugin answering for every name cannot take it over."""
    manager = plugin_manager()
    others = [other for other in manager.get_plugins() if other is not plugin]
    caller = manager.subset_hook_caller("flowmill_make_executor", remove_plugins=others)
    executor = caller(backend=backend, options=options, context=context)
    if executor is None:
        raise PluginError(f"backend {backend.name!r} is declared by {distribution_of(plugin)}, but its "
                          "flowmill_make_executor returned no executor for it")
    return executor


def notify(event: str, **kwargs: Any) -> None:
    """Call the observers of ``event`` through pluggy. Plain observers are guarded one
    by one at registration; a wrapper that raises ends this event's call (pluggy
    unwinds the others) and is logged here, so it never breaks the run either."""
    try:
        getattr(plugin_manager().hook, event)(**kwargs)
    except Exception:
        log.exception("a flowmill observer wrapper of %s failed (ignored)", event)
