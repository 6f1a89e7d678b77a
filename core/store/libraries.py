"""The installed distributions a function node's code reaches, and their versions: what
the run option ``cache_libraries=True`` records with a result and compares on reuse.

The versions are kept beside the cache key, not inside its hash, so the option decides
only whether they are compared: switching it off reruns nothing, switching it on reruns
once each result that recorded none. Off by default: a patch upgrade of numpy would
otherwise rerun a whole study (snakemake and nipype do not key on versions either).

Which distribution provides a module comes from
:func:`importlib.metadata.packages_distributions`, read once per process, as are the
versions: a process runs the library code it imported, whatever pip changed since.
Modules no distribution provides (the standard library, the user's own code) are
covered otherwise: the first by Python's minor version, recorded too, the second by
the code digest.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from typing import Any, Mapping

PYTHON = "Python"
"""The entry of a version record that holds Python's minor version."""


@functools.lru_cache(maxsize=1)
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


@functools.lru_cache(maxsize=None)
def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@functools.lru_cache(maxsize=1024)
def _versions(modules: frozenset[str]) -> tuple[tuple[str, str], ...]:
    found = {PYTHON: f"{sys.version_info.major}.{sys.version_info.minor}"}
    for module in modules:
        for distribution in _distributions().get(module, ()):
            found[distribution] = _version(distribution)
    return tuple(sorted(found.items()))


def libraries_of(task: Any) -> frozenset[str]:
    """The modules outside the user's code that a task reaches: its optional
    ``libraries()`` hook (a command line's task has none: its tool is in its key)."""
    hook = getattr(task, "libraries", None)
    return hook() if hook is not None else frozenset()


def versions(modules: frozenset[str]) -> dict[str, str]:
    """Python's minor version and the version of each installed distribution that
    provides one of ``modules`` (top-level module names), by distribution name."""
    return dict(_versions(modules))
