"""Stable content hashes of input values, output values and node code.

Cache keys must not change between processes or Python runs, so nothing here relies on
``hash()`` or on the iteration order of sets and dicts.
"""

from __future__ import annotations

import hashlib
import inspect
import marshal
import os
import pickle
import textwrap
from pathlib import Path, PurePath
from typing import Any, Literal

from .files import File

HashMethod = Literal["content", "timestamp"]

_CHUNK = 1 << 20
_source_digests: dict[Any, str] = {}
_file_digests: dict[tuple[str, int, int, str], str] = {}


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: Path, method: HashMethod) -> str:
    """Hash a file once per (path, size, mtime) in this process; a directory tree is
    hashed again each time (its own mtime does not move when a file deep inside is
    edited), from its files' memoised digests."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return "missing:" + str(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns, method)
    cached = _file_digests.get(key)
    if cached is not None:
        return cached
    if method == "timestamp":
        digest = f"{stat.st_size}:{stat.st_mtime_ns}"
    elif os.path.isdir(path):
        h = hashlib.blake2b(digest_size=16)
        for child in sorted(Path(path).rglob("*")):
            if child.is_file():
                h.update(str(child.relative_to(path)).encode())
                h.update(file_digest(child, method).encode())
        return h.hexdigest()
    else:
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
    _file_digests[key] = digest
    return digest


def _feed(h: "hashlib._Hash", value: Any, method: HashMethod) -> None:
    if value is None or isinstance(value, (bool, int, float, complex)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, str):
        h.update(b"s%d:" % len(value))
        h.update(value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, bytes):
        h.update(b"b%d:" % len(value))
        h.update(value)
    elif isinstance(value, File):
        h.update(f"F:{value}:{file_digest(value, method)};".encode())
    elif isinstance(value, PurePath):
        h.update(f"P:{value};".encode())
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}[{len(value)}".encode())
        for item in value:
            _feed(h, item, method)
        h.update(b"]")
    elif isinstance(value, dict):
        h.update(f"dict{{{len(value)}".encode())
        for key_digest, item in sorted((value_digest(k, method), v) for k, v in value.items()):
            h.update(key_digest.encode())
            _feed(h, item, method)
        h.update(b"}")
    elif isinstance(value, (set, frozenset)):
        h.update(f"set{{{len(value)}".encode())
        for item_digest in sorted(value_digest(v, method) for v in value):
            h.update(item_digest.encode())
        h.update(b"}")
    else:
        h.update(f"{type(value).__module__}.{type(value).__qualname__}:".encode())
        h.update(pickle.dumps(value, protocol=4))


def ensure_hashable(value: Any) -> None:
    """Raise what :func:`value_digest` would raise for ``value``, without hashing it:
    only values of types ``_feed`` does not know are pickled, so only those are tried
    (a run checks every input up front, then hashes it once for its key)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, PurePath)):
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            ensure_hashable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            ensure_hashable(key)
            ensure_hashable(item)
    else:
        pickle.dumps(value, protocol=4)


def value_digest(value: Any, method: HashMethod = "content") -> str:
    """Hash any picklable value; containers are hashed structurally so that equal
    dicts and sets hash alike whatever their insertion order."""
    h = hashlib.blake2b(digest_size=16)
    _feed(h, value, method)
    return h.hexdigest()


def source_digest(obj: Any) -> str:
    """Hash a function or class by its source text, so that editing it invalidates its
    results while moving or re-importing it does not. Falls back to the bytecode where
    there is no source (lambdas typed at a prompt, functions built at run time)."""
    key = getattr(obj, "__code__", None) or obj
    cached = _source_digests.get(key)
    if cached is not None:
        return cached
    try:
        text = textwrap.dedent(inspect.getsource(obj)).encode()
    except (OSError, TypeError):
        text = _compiled(obj)
    digest = digest_bytes(text)
    _source_digests[key] = digest
    return digest


def _compiled(obj: Any) -> bytes:
    code = getattr(obj, "__code__", None)
    if code is not None:
        return marshal.dumps(code)
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}".encode()
    return pickle.dumps(obj)
