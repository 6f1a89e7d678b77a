"""The files a result names, recorded when it is written and checked before it is
reused: a node whose output file was deleted or edited since it ran is run again.

Each :class:`~flowmill.File` found in a node's outputs (also inside lists, tuples and
dicts) is recorded with its size, mtime and digest (a directory: the sizes and mtimes
of all its files). The check is a ``stat`` per file; only when size or mtime moved is
the content hashed again, so touching a file costs one hash and changes nothing, while
an edit is caught whatever its mtime says.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Mapping

from .files import File
from .hashing import HashMethod, digest_bytes, file_digest

FileRecord = tuple[str, str]
"""A file's stamp (size and mtime; for a directory, those of every file in it) and
its digest, when its result was written."""


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


def _stamp(path: str) -> str | None:
    """Size and mtime of a file, or of every file of a directory tree (a directory's
    own mtime does not move when a file deep inside is edited); None if missing."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    if not os.path.isdir(path):
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    entries = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            child = os.path.join(root, name)
            with contextlib.suppress(FileNotFoundError):
                child_stat = os.stat(child)
                entries.append(f"{os.path.relpath(child, path)}:{child_stat.st_size}:{child_stat.st_mtime_ns}")
    return digest_bytes("\n".join(entries).encode())


def record_files(outputs: Mapping[str, Any], method: HashMethod) -> dict[str, FileRecord]:
    """What :func:`changed_file` later compares against, for the Files of ``outputs``."""
    records = {}
    for path in files_in(list(outputs.values())):
        stamp = _stamp(str(path))
        if stamp is not None:
            records[str(path)] = (stamp, file_digest(path, method))
    return records


def changed_file(records: Mapping[str, FileRecord], method: HashMethod) -> str | None:
    """How the first recorded file that changed since has changed, or None if none did."""
    for path, (stamp, digest) in records.items():
        now = _stamp(path)
        if now is None:
            return f"output file {path} was deleted"
        if now != stamp and file_digest(File(path), method) != digest:
            return f"output file {path} changed"
    return None
