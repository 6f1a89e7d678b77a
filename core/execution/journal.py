"""The run journal: which node an in-process backend is running, kept on disk.

A node running in the driver process (the linear backend, Ruffus threads) can take
the driver down with it: ``os._exit``, a segfault in an extension, the OOM killer.
Nothing in the dying process can then record which node did it, so the runner writes
``<workflow_dir>/.flowmill/running/<entry>.json`` (node, node directory, pid, run id)
before the node starts and removes it when the node's completion arrives. The next
run of the workflow finds the entries whose driver is gone, warns "the previous run
died while running node X", and writes X's crash record saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

import psutil

from ..store import results as store
from ..store.crash import crash_record
from .job import Job

log = logging.getLogger("flowmill")

DRIVER_DIED = "DriverDied"
"""The crash kind of a node the driver died running."""


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None


class Journal:
    """The entries of one run; see the module docstring."""

    def __init__(self, workflow_dir: Path, run_id: str) -> None:
        self.dir = workflow_dir / store.RUN_DIR / "running"
        self.run_id = run_id
        self._entries: dict[str, Path] = {}

    def _path(self, job_id: str) -> Path:
        return self.dir / f"{self.run_id}-{hashlib.blake2b(job_id.encode(), digest_size=6).hexdigest()}.json"

    def enter(self, job: Job) -> None:
        """Record that ``job`` starts in this process now. A journal that cannot be
        written only costs the post-mortem, so that is a warning, not a failure."""
        entry = {"node": job.id, "node_dir": str(job.dir), "task": job.task.describe(), "pid": os.getpid(),
                 "process_started": _process_started(os.getpid()), "host": socket.gethostname(),
                 "run_id": self.run_id}
        path = self._path(job.id)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            store.atomic_write(path, json.dumps(entry).encode())
        except OSError as exc:
            log.warning("cannot record node %s in the run journal: %s", job.id, exc)
            return
        self._entries[job.id] = path

    def leave(self, job_id: str) -> None:
        path = self._entries.pop(job_id, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """The run ends with its driver alive: nothing it ran killed it."""
        for job_id in list(self._entries):
            self.leave(job_id)

    def recover(self) -> list[dict[str, Any]]:
        """Report and settle the entries of earlier runs whose driver died: a warning
        each, and a crash record in the node's directory. Entries of a driver still
        alive (another run of this workflow, or one on another host) are left alone."""
        died = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if entry.get("host") == socket.gethostname() and _process_started(entry["pid"]) != entry.get(
                    "process_started"):
                self._report(entry)
                path.unlink(missing_ok=True)
                died.append(entry)
        return died

    @staticmethod
    def _report(entry: dict[str, Any]) -> None:
        error = (f"the previous run ({entry['run_id']}, pid {entry['pid']}) died while running node "
                 f"{entry['node']!r} in the driver process (os._exit, a crash in native code, or a kill)")
        log.warning("%s", error)
        node_dir = Path(entry["node_dir"])
        store.write_crash(node_dir, crash_record(node=entry["node"], node_dir=node_dir, task=entry["task"],
                                                 error=error, error_type=DRIVER_DIED,
                                                 details={"run_id": entry["run_id"], "pid": entry["pid"]}))
