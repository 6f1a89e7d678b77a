"""Which declared types mean "a file", and turning paths given for them into Files.

A command input declared ``File`` or ``list[File]``, and a function parameter (or
return value) annotated ``File``, ``list[File]``, ``File | None`` or
``Optional[File]``, takes a ``str`` or a path and gets an absolute
:class:`~flowmill.File`: hashed by content, and valid from the node directory and
from every host of the shared file system.
"""

from __future__ import annotations

import functools
import os
import types
import typing
from typing import Any, Callable, Literal, Mapping

from ..store.files import File

FileKind = Literal["file", "list"]


def file_kind(tp: Any) -> FileKind | None:
    """"file" for File (optional or not), "list" for list[File] (optional or not),
    None for any other type."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        kinds = {file_kind(arg) for arg in typing.get_args(tp) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if tp is File:
        return "file"
    if typing.get_origin(tp) is list and typing.get_args(tp) == (File,):
        return "list"
    return None


def as_file(value: Any, base: str | None = None) -> Any:
    """A path given as text (or a Path) as an absolute File, relative paths taken from
    ``base`` (default: the working directory); other values are left alone."""
    if isinstance(value, File) and value.is_absolute() or not isinstance(value, (str, os.PathLike)):
        return value
    path = os.path.expanduser(os.fspath(value))
    return File(os.path.normpath(os.path.join(base, path)) if base else os.path.abspath(path))


def as_files(value: Any, kind: FileKind, base: str | None = None) -> Any:
    if kind == "list" and isinstance(value, (list, tuple)):
        return [as_file(item, base) for item in value]
    return as_file(value, base)


def missing_file(value: Any) -> str | None:
    """The first File in ``value`` (a File or a list of them) that does not exist."""
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, File) and not item.exists():
            return str(item)
    return None


@functools.lru_cache(maxsize=4096)
def _annotated_files(func: Callable[..., Any]) -> tuple[dict[str, FileKind], FileKind | None]:
    try:
        hints: Mapping[str, Any] = typing.get_type_hints(func)
    except Exception:  # an unresolvable annotation is the user's business, not a file
        hints = {}
    kinds = {name: file_kind(tp) for name, tp in hints.items()}
    returns = kinds.pop("return", None)
    return {name: kind for name, kind in kinds.items() if kind is not None}, returns


def annotated_files(func: Callable[..., Any]) -> tuple[dict[str, FileKind], FileKind | None]:
    """The parameters of ``func`` annotated as files, and what its return annotation
    says (annotations that cannot be resolved are ignored); resolved once per function,
    since a workflow makes thousands of nodes of one function."""
    if not getattr(func, "__annotations__", None):
        return {}, None
    try:
        files, returns = _annotated_files(func)
    except TypeError:  # an unhashable callable
        files, returns = _annotated_files.__wrapped__(func)
    return dict(files), returns
