"""The files a result names, recorded when it is written and checked before it is
reused: a node whose output file was deleted or edited since it ran is run again.

Each :class:`~flowmill.File` found in a node's outputs (also inside lists, tuples and
dicts) is recorded with its size, mtime and digest. The check is a ``stat`` per file;
only when size or mtime moved is the content hashed again, so touching a file costs
one hash and changes nothing, while an edit is caught whatever its mtime says.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

from .files import File
from .hashing import HashMethod, file_digest

FileRecord = tuple[int, int, str]
"""Size, mtime in nanoseconds, and digest of a file when its result was written."""


def files_in(value: Any) -> Iterator[File]:
    """Every File in a value, looking inside lists, tuples, sets and dict values."""
    if isinstance(value, File):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from files_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from files_in(item)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def record_files(outputs: Mapping[str, Any], method: HashMethod) -> dict[str, FileRecord]:
    """What :func:`changed_file` later compares against, for the Files of ``outputs``."""
    records = {}
    for path in files_in(list(outputs.values())):
        stat = _stat(str(path))
        if stat is not None:
            records[str(path)] = (*stat, file_digest(path, method))
    return records


def changed_file(records: Mapping[str, FileRecord], method: HashMethod) -> str | None:
    """How the first recorded file that changed since has changed, or None if none
    did. Directories are hashed again whenever they are checked (their own mtime does
    not see an edit deep inside)."""
    for path, (size, mtime, digest) in records.items():
        stat = _stat(path)
        if stat is None:
            return f"output file {path} was deleted"
        if stat == (size, mtime) and not os.path.isdir(path):
            continue
        if file_digest(File(path), method) != digest:
            return f"output file {path} changed"
    return None
