"""``RunResult._repr_html_``: a run as a notebook shows it, drawn from the run's
record (:mod:`flowmill.store.runs`), so the result itself stays small in memory."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Mapping

from ..store.runs import find_record, read_record

ROWS = 50
"""Nodes listed: the failures first, then the slowest; the counts cover every node."""

STYLE = "border-collapse:collapse;font-size:90%"


def _cell(value: Any) -> str:
    return f"<td>{escape(str(value))}</td>"


def _figures(entry: Mapping[str, Any]) -> list[str]:
    duration = entry.get("duration")
    rss = entry.get("max_rss_kib")
    return [f"{duration:.3f}" if duration is not None else "",
            entry.get("host") or "",
            f"{entry['cpu_s']:.3f}" if entry.get("cpu_s") is not None else "",
            f"{rss / 1024:.0f}" if rss is not None else ""]


def run_html(workflow_dir: Path, run_id: str, counts: Mapping[str, int], states: Mapping[str, str],
             crash_files: Mapping[str, Path]) -> str:
    path = find_record(workflow_dir, run_id)
    entries = read_record(path).nodes if path is not None else {}
    summary = ", ".join(f"{escape(state)} {count}" for state, count in counts.items() if count)
    failed = [job_id for job_id, state in states.items() if state == "failed"]
    others = sorted((job_id for job_id in states if job_id not in crash_files),
                    key=lambda job_id: -(entries.get(job_id, {}).get("duration") or 0.0))
    rows = []
    for job_id in (failed + others)[:ROWS]:
        entry = entries.get(job_id, {})
        error = entry.get("error", "")
        crash = crash_files.get(job_id)
        rows.append("<tr>" + _cell(job_id) + _cell(states[job_id]) + "".join(_cell(v) for v in _figures(entry))
                    + _cell(error) + _cell(crash or "") + "</tr>")
    more = len(states) - len(rows)
    return (f"<div class='flowmill-run'><p><b>flowmill run {escape(run_id)}</b> of "
            f"<code>{escape(str(workflow_dir))}</code>: {summary}</p>"
            f"<table style='{STYLE}'><thead><tr><th>node</th><th>state</th><th>seconds</th><th>host</th>"
            "<th>cpu s</th><th>peak MiB</th><th>error</th><th>crash file</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            + (f"<p>{more} more node(s): <code>flowmill status {escape(str(workflow_dir))}</code></p>" if more > 0
               else "") + "</div>")
