"""Run records: what each run did, one JSON-lines file per run under
``<workflow_dir>/.flowmill/runs/``, named ``<UTC start, to the microsecond>-<run id>.jsonl`` so the names
sort by time.

The first line describes the run (id, workflow, backend, options, start), the second
the graph (``{"parents": {job: [jobs it waits for]}}``); then one line per settled node (``{"node": id, "state": ..., ...}``) or per batch of cached
nodes (``{"cached": [ids]}``); the last line, written when the run ends, holds
``ended`` and the counts. A run whose driver died has no last line. Appending lines
as nodes settle keeps the driver's memory flat on 100,000-node runs and lets
``flowmill status`` read a run that is still going.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

RUNS = Path(".flowmill") / "runs"

FLUSH_EVERY = 1.0
"""Seconds between flushes while a run goes: a reader sees a live run at most this
late, and the driver pays one write per second rather than one per node."""


def runs_dir(workflow_dir: Path) -> Path:
    return Path(workflow_dir) / RUNS


def new_record_path(workflow_dir: Path, run_id: str, started: float) -> Path:
    stamp = datetime.datetime.fromtimestamp(started, datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
    return runs_dir(workflow_dir) / f"{stamp}-{run_id}.jsonl"


class RecordWriter:
    """Appends the lines of one run's record, buffered, flushed at most every
    ``FLUSH_EVERY`` seconds and when closed."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", encoding="utf-8")
        self._flushed = time.monotonic()

    def write(self, entry: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(entry, default=str) + "\n")
        now = time.monotonic()
        if now - self._flushed >= FLUSH_EVERY:
            self._file.flush()
            self._flushed = now

    def close(self) -> None:
        self._file.close()


@dataclass
class RunRecord:
    """One run's record as read back: the run's line, each node's line by id (cached
    nodes as ``{"state": "cached"}``), the end line (None if the run did not end) and
    the graph's edges."""

    path: Path
    run: dict[str, Any]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    end: dict[str, Any] | None = None
    parents: dict[str, list[str]] = field(default_factory=dict)
    """The jobs each job waits for (jobs without any are left out)."""

    def with_state(self, state: str) -> list[str]:
        return [node for node, entry in self.nodes.items() if entry.get("state") == state]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.nodes.values():
            counts[entry["state"]] = counts.get(entry["state"], 0) + 1
        return counts


def read_record(path: Path) -> RunRecord:
    """Read a run record; a line cut short by a killed driver is ignored."""
    record: RunRecord | None = None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if record is None:
                record = RunRecord(path, entry)
            elif "node" in entry:
                record.nodes[entry["node"]] = entry
            elif "parents" in entry:
                record.parents = entry["parents"]
            elif "cached" in entry:
                record.nodes.update((node, {"node": node, "state": "cached"}) for node in entry["cached"])
            elif "ended" in entry:
                record.end = entry
    if record is None:
        raise ValueError(f"{path} is an empty run record")
    return record


def record_paths(workflow_dir: Path) -> list[Path]:
    """Every run record of a workflow, oldest first."""
    return sorted(runs_dir(workflow_dir).glob("*.jsonl"))


def find_record(workflow_dir: Path, run_id: str | None = None) -> Path | None:
    """The record of run ``run_id`` (None: the latest run), or None if there is none."""
    paths = record_paths(workflow_dir)
    if run_id is not None:
        paths = [path for path in paths if path.stem.endswith("-" + run_id)]
    return paths[-1] if paths else None
