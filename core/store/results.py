"""The result store: one directory per node instance, written atomically.

``result.pkl`` holds two pickles back to back: a small header (the inputs hash, the
digest of every output, who ran it and when) and then the output values. Readers that
only need to know whether a result is valid, or what its outputs hash to, stop after
the header, so checking a cached node never loads big outputs. The file appears by
``os.replace`` of a finished temporary file: a killed job leaves no file, or the old
one, never a truncated one that could pass as valid.

A crash record must land somewhere even when the node's directory cannot take it
(read-only, full, over quota): it then goes to the workflow's ``.flowmill/crashes/``,
else to the temp directory, and :func:`find_crash` looks in the same places.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Mapping

import cloudpickle

RESULT = "result.pkl"
CRASH = "crash.json"
JOB = "job.pkl"
RUN_DIR = ".flowmill"
"""The workflow directory's own subdirectory (fallback crash records, the run journal)."""

log = logging.getLogger("flowmill")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all. An OSError names ``path`` (a full disk's
    ENOSPC from ``write`` names no file, and the user must learn which one)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_result(node_dir: Path, header: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
    try:
        payload = pickle.dumps(dict(outputs), protocol=5)
    except Exception:
        payload = cloudpickle.dumps(dict(outputs), protocol=5)
    atomic_write(node_dir / RESULT, pickle.dumps(dict(header), protocol=5) + payload)


def read_header(node_dir: Path) -> dict[str, Any] | None:
    """The result header, or None if there is no complete result."""
    try:
        with open(node_dir / RESULT, "rb") as handle:
            return pickle.load(handle)
    except (FileNotFoundError, EOFError, pickle.UnpicklingError):
        return None


def read_outputs(node_dir: Path) -> dict[str, Any]:
    with open(node_dir / RESULT, "rb") as handle:
        pickle.load(handle)
        return pickle.load(handle)


def valid_header(node_dir: Path, inputs_hash: str) -> dict[str, Any] | None:
    header = read_header(node_dir)
    if header is not None and header.get("hash") == inputs_hash:
        return header
    return None


def result_token(node_dir: Path) -> str | None:
    """The run token of the node's current result (None: no complete result). A
    backend compares it with ``job.token`` to tell this run's result from an older one."""
    header = read_header(Path(node_dir))
    return None if header is None else header.get("token")


def has_crash(node_dir: Path) -> bool:
    return find_crash(Path(node_dir)) is not None


def crash_places(node_dir: Path) -> list[Path]:
    """Where the node's crash record may be, in the order it is tried: its own
    directory, ``<workflow_dir>/.flowmill/crashes/`` (the nearest ancestor holding a
    ``.flowmill`` directory), the temp directory. Fallback names carry a digest of the
    node directory, so nodes of the same name in different workflows do not collide."""
    name = f"{node_dir.name}-{hashlib.blake2b(str(node_dir).encode(), digest_size=5).hexdigest()}.json"
    places = [node_dir / CRASH]
    places += [root / RUN_DIR / "crashes" / name for root in node_dir.parents if (root / RUN_DIR).is_dir()][:1]
    places.append(Path(tempfile.gettempdir()) / "flowmill-crashes" / name)
    return places


def find_crash(node_dir: Path) -> Path | None:
    return next((path for path in crash_places(node_dir) if path.exists()), None)


def write_crash(node_dir: Path, record: Mapping[str, Any]) -> Path:
    """Write the crash record in the first place of :func:`crash_places` that takes
    it, saying in ``details.unwritable`` why the earlier ones did not, and return its
    path. Never raises for a file system error: a node's failure must not become the
    run's; if no place takes it, the error is logged and the intended path returned."""
    problems: list[str] = []
    places = crash_places(node_dir)
    for path in places:
        content = dict(record)
        if problems:
            content["details"] = {**content.get("details", {}), "unwritable": "; ".join(problems)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(content, indent=2, default=str).encode())
            return path
        except OSError as exc:
            problems.append(str(exc))
    log.error("cannot write the crash record of node %s anywhere: %s", record.get("node"), "; ".join(problems))
    return places[0]


def read_crash(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def clear_crash(node_dir: Path) -> None:
    """Remove the node's crash records from every place; a place that refuses (a
    read-only directory) holds none this run could be confused by, since nothing
    could be written there either."""
    for path in crash_places(node_dir):
        try:
            os.unlink(path)
        except OSError:
            pass
