"""The result store: one directory per node instance, written atomically.

``result.pkl`` holds two pickles back to back: a small header (the inputs hash, the
digest of every output, who ran it and when) and then the output values. Readers that
only need to know whether a result is valid, or what its outputs hash to, stop after
the header, so checking a cached node never loads big outputs. The file appears by
``os.replace`` of a finished temporary file: a killed job leaves no file, or the old
one, never a truncated one that could pass as valid.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Mapping

import cloudpickle

RESULT = "result.pkl"
CRASH = "crash.json"
JOB = "job.pkl"


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
    return (Path(node_dir) / CRASH).exists()


def write_crash(node_dir: Path, record: Mapping[str, Any]) -> Path:
    node_dir.mkdir(parents=True, exist_ok=True)
    path = node_dir / CRASH
    atomic_write(path, json.dumps(record, indent=2, default=str).encode())
    return path


def read_crash(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def clear_crash(node_dir: Path) -> None:
    try:
        os.unlink(node_dir / CRASH)
    except FileNotFoundError:
        pass
