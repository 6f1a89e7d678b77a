"""The journal of a scheduler job in flight, kept in its node's directory, so that a
later run (after ``wait=False``, or a driver that died) re-attaches to the job instead
of submitting the node a second time. A record carries the job's
:meth:`~flowmill.backend.Job.fingerprint`: a run adopts it only while the node still
computes the same thing, so an edited node is never answered by a stale job.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..store.results import atomic_write

if TYPE_CHECKING:
    from ..execution.job import Job


def write_record(job: "Job", name: str, fields: Mapping[str, Any]) -> None:
    """Record the scheduler's job for ``job`` (``fields``: its id, the run token...)."""
    atomic_write(job.dir / name, json.dumps({**fields, "fingerprint": job.fingerprint()}).encode())


def matching_record(job: "Job", name: str) -> dict[str, Any] | None:
    """The record of a job still computing what ``job`` computes; a record that does
    not match (or does not parse) is removed and None returned."""
    try:
        with open(job.dir / name, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:
        record = None
    if isinstance(record, dict) and record.get("fingerprint") == job.fingerprint():
        return record
    remove_record(job.dir, name)
    return None


def remove_record(node_dir: Path, name: str) -> None:
    try:
        os.unlink(Path(node_dir) / name)
    except FileNotFoundError:
        pass
