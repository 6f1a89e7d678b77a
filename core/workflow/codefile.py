"""Tracebacks from shipped functions name the user's file and line.

cloudpickle ships a function defined in a script or a notebook by value and, to keep
its payload deterministic, renames the file of its code to ``<dynamic-code>``; a
failure on an IPython engine, in a Ruffus worker or in a batch job then reads
``File "<dynamic-code>", line 4``. A task records the real file names of its function
and of the user's functions that one calls (reached through its globals), and puts
them back where the job is unpickled."""

from __future__ import annotations

import types
from typing import Any, Callable

SHIPPED = "<dynamic-code>"

_DEPTH = 8
"""How far through the globals helper functions are followed."""


def _reachable(func: Callable[..., Any]) -> list[types.FunctionType]:
    """The function and the plain functions it reaches through the global names its
    code (and its nested code) uses."""
    found: dict[int, types.FunctionType] = {}
    frontier = [func]
    for _ in range(_DEPTH):
        following = []
        for item in frontier:
            if not isinstance(item, types.FunctionType) or id(item) in found:
                continue
            found[id(item)] = item
            following += [item.__globals__[name] for name in _names(item.__code__) if name in item.__globals__]
        if not following:
            break
        frontier = following
    return list(found.values())


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _key(func: types.FunctionType) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def file_names(func: Callable[..., Any]) -> dict[str, str]:
    """Where each reachable function's code comes from, by module and qualified name."""
    return {_key(f): f.__code__.co_filename for f in _reachable(func) if f.__code__.co_filename != SHIPPED}


def _renamed(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(_renamed(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def restore_file_names(func: Callable[..., Any], names: dict[str, str]) -> None:
    """Give back their file names to the functions cloudpickle renamed."""
    for f in _reachable(func):
        filename = names.get(_key(f))
        if filename is not None and f.__code__.co_filename == SHIPPED:
            f.__code__ = _renamed(f.__code__, filename)
