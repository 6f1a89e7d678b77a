"""What ``flowmill status`` prints: a run record (:mod:`flowmill.store.runs`) as a
person reads it: how far it got, what failed and where its crash file is, which nodes
took longest and where, and what a scheduler still holds."""

from __future__ import annotations

import datetime
from typing import Any

from .store.places import process_place
from .store.runs import RunRecord

STATE_ORDER = ("ran", "cached", "failed", "skipped", "pending")


def when(stamp: float | None) -> str:
    if stamp is None:
        return "?"
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _took(record: RunRecord) -> str:
    if record.end is None:
        return "not ended: still running, or its driver died"
    took = f"took {record.end['ended'] - record.run['started']:.1f}s"
    return f"{took}, aborted ({record.end['aborted']})" if "aborted" in record.end else took


def counts_line(record: RunRecord) -> str:
    counts = record.counts()
    parts = [f"{state} {counts[state]}" for state in STATE_ORDER if counts.get(state)]
    unsettled = record.run["n_jobs"] - len(record.nodes)
    if unsettled:
        parts.append(f"not settled {unsettled}")
    return f"{record.run['n_jobs']} node(s): " + (", ".join(parts) or "none settled")


def _node_figures(entry: dict[str, Any]) -> str:
    figures = [f"{entry['duration']:.2f}s on {entry.get('host')}"]
    if entry.get("cpu_s") is not None:
        figures.append(f"cpu {entry['cpu_s']:.2f}s")
    if entry.get("max_rss_kib") is not None:
        figures.append(f"peak {entry['max_rss_kib'] / 1024:.0f} MiB")
    if entry.get("attempts", 1) > 1:
        figures.append(f"{entry['attempts']} attempts")
    return ", ".join(figures)


def describe(record: RunRecord, slowest: int = 5) -> list[str]:
    run = record.run
    lines = [f"run {run['run']} of {run['workflow']} on {run['backend']}, started {when(run['started'])} "
             f"on {process_place(run.get('driver_pid'), run.get('driver_host'))}, {_took(record)}",
             f"  {counts_line(record)}",
             f"  record: {record.path}"]
    failed = record.with_state("failed")
    if failed:
        lines.append("failed:")
        for node in failed:
            entry = record.nodes[node]
            lines += [f"  {node}: {entry.get('error')}", f"    crash file: {entry.get('crash_file')}"]
    timed = sorted((entry for entry in record.nodes.values() if entry.get("duration") is not None),
                   key=lambda entry: entry["duration"], reverse=True)[:slowest]
    if timed:
        lines.append("slowest:")
        lines += [f"  {entry['node']}: {_node_figures(entry)}" for entry in timed]
    pending = record.with_state("pending")
    if pending:
        lines.append("pending (held by the scheduler; a later run re-attaches):")
        lines += [f"  {node}" for node in pending]
    return lines


def summary_line(record: RunRecord) -> str:
    """One line per run for ``flowmill status --all``."""
    return (f"{record.run['run']}  {when(record.run['started'])}  {record.run['backend']:<8}  "
            f"{counts_line(record)}" + ("" if record.end else "  (not ended)"))
