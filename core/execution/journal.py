"""The run journal: which nodes an in-process backend is running, kept on disk.

A node running in the driver process (the linear backend, Ruffus threads) can take
the driver down with it: ``os._exit``, a segfault in an extension, the OOM killer.
Nothing in the dying process can then record which node did it, so each run appends
to one file, ``<workflow_dir>/.flowmill/running/<run id>.jsonl``: first the driver's
holder record (the very record its node locks' ``.running`` files hold, see
:mod:`flowmill.store.locks`) with the time its process started (so that a reused
pid is not taken for the driver), then a line when a node starts and one when its
completion arrives. One file per run keeps a first run's cost to two appends per
node, and lets drivers sharing a base_dir keep their journals apart. The file is
removed when the run ends with its driver alive.

The next run of the workflow reads the journals whose driver is gone (on this host:
another host's processes cannot be seen), warns once per node that was running
"the previous run died while running node X", writes X's crash record saying so,
and removes the ``.running`` that driver left in X's directory, so that X's rerun
does not report the same death a second time.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import psutil

from ..store import results as store
from ..store.crash import crash_record
from ..store.locks import clear_running, died_running, holder_record
from .job import Job

log = logging.getLogger("flowmill")

DRIVER_DIED = "DriverDied"
"""The crash kind of a node the driver died running."""
SUFFIX = ".jsonl"


class Journal:
    """The journal of one run; see the module docstring."""

    def __init__(self, workflow_dir: Path, run_id: str) -> None:
        self.dir = workflow_dir / store.RUN_DIR / "running"
        self.run_id = run_id
        self.path = self.dir / f"{run_id}{SUFFIX}"
        self._fd: int | None = None
        self._open: set[str] = set()
        self._lock = threading.Lock()
        """Starts are reported from executor threads (Ruffus in thread mode)."""

    def enter(self, job: Job) -> None:
        """Record that ``job`` starts in this process now. A journal that cannot be
        written only costs the post-mortem, so that is a warning, not a failure."""
        line = {"start": job.id, "dir": str(job.dir), "task": job.task.describe()}
        with self._lock:
            if self._append(line):
                self._open.add(job.id)

    def leave(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._open:
                self._open.discard(job_id)
                self._append({"end": job_id})

    def close(self) -> None:
        """The run ends with its driver alive: nothing it ran killed it."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
                self.path.unlink(missing_ok=True)
            self._open.clear()

    def _append(self, line: dict[str, str]) -> bool:
        try:
            if self._fd is None:
                self._fd = self._create()
            os.write(self._fd, json.dumps(line).encode() + b"\n")
            return True
        except OSError as exc:
            log.warning("cannot record node %s in the run journal %s: %s", line.get("start") or line.get("end"),
                        self.path, exc)
            return False

    def _create(self) -> int:
        """Open the run's file, its holder record already in it: a reader never finds
        a journal without the driver it belongs to."""
        self.dir.mkdir(parents=True, exist_ok=True)
        head = {"holder": holder_record(self.run_id), "started": _process_started(os.getpid())}
        store.atomic_write(self.path, json.dumps(head).encode() + b"\n")
        return os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def recover(self) -> list[dict[str, Any]]:
        """Report and settle the nodes that earlier runs' dead drivers were running
        (see the module docstring); return them. Journals of drivers still alive, or
        on another host, are left alone."""
        died = []
        for path in sorted(self.dir.glob(f"*{SUFFIX}")):
            if path == self.path:
                continue
            head, running = _read(path)
            if head is None or not _is_dead(head):
                continue
            holder = head["holder"]
            for entry in running.values():
                self._report(holder, entry)
                died.append({**entry, "holder": holder})
            path.unlink(missing_ok=True)
        return died

    def _report(self, holder: dict[str, Any], entry: dict[str, str]) -> None:
        error = (f"{died_running(holder, entry['start'], self.run_id)} in the driver process "
                 "(os._exit, a crash in native code, or a kill)")
        log.warning("%s", error)
        node_dir = Path(entry["dir"])
        store.write_crash(node_dir, crash_record(node=entry["start"], node_dir=node_dir, task=entry["task"],
                                                 error=error, error_type=DRIVER_DIED,
                                                 details={"run_id": holder.get("run"), "pid": holder.get("pid")}))
        clear_running(node_dir, holder)


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None


def _is_dead(head: dict[str, Any]) -> bool:
    """Whether a journal's driver is known to be gone: on this host only (another
    host's processes cannot be seen from here)."""
    holder = head["holder"]
    return holder.get("host") == socket.gethostname() and _process_started(holder["pid"]) != head.get("started")


def _read(path: Path) -> tuple[dict[str, Any] | None, dict[str, dict[str, str]]]:
    """A journal's first line, its driver's (None: unreadable), and the nodes it
    started and did not end, by node. A line cut short by the driver's death is
    skipped."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None, {}
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    head = records[0] if records else None
    if not isinstance(head, dict) or not isinstance(head.get("holder"), dict) or "pid" not in head["holder"]:
        return None, {}
    running: dict[str, dict[str, str]] = {}
    for record in records[1:]:
        if not isinstance(record, dict):
            continue
        if "start" in record:
            running[record["start"]] = record
        elif "end" in record:
            running.pop(record["end"], None)
    return head, running
