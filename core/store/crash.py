"""Crash records: plain JSON a person can read without the pipeline's environment
(nipype's pickled crash files need the very modules that crashed to be opened)."""

from __future__ import annotations

import datetime
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, Mapping

_REPR_LIMIT = 2000


def short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not hide the real crash
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + f"... ({len(text)} chars)"


def crash_record(*, node: str, node_dir: Path, task: str, error: str, error_type: str,
                 tb: str = "", inputs: Mapping[str, Any] | None = None,
                 details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "node": node,
        "task": task,
        "error_type": error_type,
        "error": error,
        "traceback": tb,
        "inputs": {name: short_repr(value) for name, value in (inputs or {}).items()},
        "details": dict(details or {}),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": sys.executable,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "node_dir": str(node_dir),
        "rerun": f"{sys.executable} -m flowmill.worker {node_dir / 'job.pkl'}",
    }


def exception_record(*, node: str, node_dir: Path, task: str, exc: BaseException,
                     inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    error = f"the node called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else str(exc)
    return crash_record(node=node, node_dir=node_dir, task=task, error=error or type(exc).__name__,
                        error_type=type(exc).__name__,
                        tb="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                        inputs=inputs, details=getattr(exc, "crash_details", None))


def format_crash(record: Mapping[str, Any]) -> str:
    """The crash as a person reads it: what failed, where, with what, and how to rerun."""
    lines = [
        f"Node:      {record.get('node')}",
        f"Task:      {record.get('task')}",
        f"Error:     {record.get('error_type')}: {record.get('error')}",
        f"When:      {record.get('time')} on {record.get('host')} (pid {record.get('pid')})",
        f"Node dir:  {record.get('node_dir')}",
        f"Rerun:     {record.get('rerun')}",
    ]
    if record.get("inputs"):
        lines.append("Inputs:")
        lines.extend(f"  {name} = {value}" for name, value in record["inputs"].items())
    if record.get("details"):
        lines.append("Details:")
        lines.extend(f"  {name}: {value}" for name, value in record["details"].items())
    if record.get("traceback"):
        lines.append("Traceback:")
        lines.append(record["traceback"].rstrip())
    return "\n".join(lines)
