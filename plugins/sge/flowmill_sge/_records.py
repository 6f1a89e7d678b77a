"""The journal of jobs in flight: ``sge_job.json`` in a node's directory names the
Grid Engine job computing it, so that a later run (after ``wait=False``, or a driver
that died) re-attaches to that job instead of submitting the node a second time.

A record lives while its job is in flight; the run that sees the job end removes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import flowmill.backend as api
from flowmill.backend import atomic_write, has_crash

RECORD = "sge_job.json"
BLOCKED = "sge_blocked"


def write(job: api.Job, sge_id: str, cell: str, token: str | None) -> None:
    record = {"sge_job_id": sge_id, "cell": cell, "token": token, "fingerprint": job.fingerprint()}
    atomic_write(Path(job.dir) / RECORD, json.dumps(record).encode())


def read(node_dir: Path) -> dict[str, Any] | None:
    try:
        with open(Path(node_dir) / RECORD, encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return None


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove(node_dir: Path) -> None:
    _unlink(Path(node_dir) / RECORD)


def mark_blocked(node_dir: Path, token: str) -> None:
    """Say that the job submitted with ``token`` refused to run, so that its own
    dependants stop at once instead of waiting out their grace period."""
    atomic_write(Path(node_dir) / BLOCKED, token.encode())


def clear_blocked(node_dir: Path) -> None:
    """Forget a refusal before the node is submitted again under the same token (a
    retry in the same run), so that its dependants wait for the new attempt."""
    _unlink(Path(node_dir) / BLOCKED)


def gave_up(node_dir: Path, token: str) -> bool:
    """The node's job of submission ``token`` will not produce a result: it failed
    (crash file) or refused to run."""
    try:
        blocked = (Path(node_dir) / BLOCKED).read_text() == token
    except FileNotFoundError:
        blocked = False
    return blocked or has_crash(node_dir)
