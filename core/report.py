"""``flowmill report``: one run as a self-contained HTML page (no network needed to
view it): a summary, the failures with their error and the tail of their stderr or
traceback, a timeline per host and worker process and the graph of the jobs (SVG,
drawn here), and a table of
every node with its times, CPU and peak memory, sortable by clicking a column (or
opened sorted with ``report.html#sort=<column>``)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from .status import counts_line, when
from .store.places import process_place
from .store.results import read_crash
from .store.runs import RunRecord

ROWS = 5000
"""Nodes in the table; the counts and the timeline cover every node."""

TAIL = 20
"""Lines of a failure's stderr or traceback shown."""

COLORS = {"ran": "#40a02b", "failed": "#d20f39", "cached": "#1e66f5", "skipped": "#9ca0b0", "pending": "#df8e1d"}

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
th{cursor:pointer;background:#f2f2f2}th:hover{background:#e0e0e0}td.num{text-align:right}
pre{background:#f7f7f7;padding:6px;overflow-x:auto;font-size:12px}
.failed{color:#d20f39}.lane{font-size:11px}
"""

SCRIPT = """
function sortBy(col){
  const table=document.getElementById('nodes');const body=table.tBodies[0];
  const th=table.querySelector('th[data-col="'+col+'"]');if(!th){return;}
  const idx=Array.prototype.indexOf.call(th.parentNode.children,th);
  const numeric=th.dataset.num==='1';const dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';
  const rows=Array.from(body.rows);
  rows.sort(function(a,b){
    const x=a.cells[idx].dataset.v,y=b.cells[idx].dataset.v;
    if(numeric){return dir*((parseFloat(x)||0)-(parseFloat(y)||0));}
    return dir*x.localeCompare(y);});
  rows.forEach(function(r){body.appendChild(r);});
}
document.querySelectorAll('#nodes th').forEach(function(th){
  th.addEventListener('click',function(){sortBy(th.dataset.col);});});
const wanted=/#sort=([a-z_]+)/.exec(window.location.hash);if(wanted){sortBy(wanted[1]);}
"""

COLUMNS = (("node", "node", False), ("state", "state", False), ("attempts", "attempts", True),
           ("host", "host", False), ("pid", "pid", True), ("queued", "queued s", True),
           ("started", "start s", True), ("duration", "seconds", True), ("cpu_s", "cpu s", True),
           ("max_rss_kib", "peak MiB", True), ("exit", "exit", False))


def _origin(record: RunRecord) -> float:
    return float(record.run["started"])


def _cell(entry: dict[str, Any], column: str, origin: float) -> tuple[str, str]:
    """(sort value, text) of one cell."""
    value = entry.get(column)
    if value is None:
        return "", ""
    if column in ("queued", "started"):
        return f"{value - origin:.3f}", f"{value - origin:.2f}"
    if column in ("duration", "cpu_s"):
        return f"{value:.6f}", f"{value:.3f}"
    if column == "max_rss_kib":
        return str(value), f"{value / 1024:.0f}"
    return str(value), str(value)


def _table(record: RunRecord) -> str:
    origin = _origin(record)
    head = "".join(f"<th data-col='{key}' data-num='{int(num)}'>{escape(title)}</th>" for key, title, num in COLUMNS)
    rows = []
    for entry in list(record.nodes.values())[:ROWS]:
        cells = []
        for key, _, num in COLUMNS:
            sort, text = _cell(entry, key, origin)
            cells.append(f"<td data-v='{escape(sort)}'{' class=num' if num else ''}>{escape(text)}</td>")
        rows.append(f"<tr class='{escape(entry.get('state', ''))}'>" + "".join(cells) + "</tr>")
    more = len(record.nodes) - len(rows)
    note = f"<p>{more} more node(s) not listed.</p>" if more > 0 else ""
    return f"<table id='nodes'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"


def _timeline(record: RunRecord) -> str:
    """One lane per host and worker process, a bar per node from its start to its end
    on that worker's clock, in seconds since the run started."""
    timed = [entry for entry in record.nodes.values() if entry.get("started") and entry.get("ended")]
    if not timed:
        return "<p>No node ran in this run.</p>"
    origin = min(_origin(record), *(entry["started"] for entry in timed))
    span = max(max(entry["ended"] for entry in timed) - origin, 1e-3)
    lanes = sorted({(entry.get("host") or "?", entry.get("pid") or 0) for entry in timed})
    row, label, width = 18, 160, 800
    parts = [f"<svg id='timeline' xmlns='http://www.w3.org/2000/svg' width='{label + width + 20}' "
             f"height='{row * len(lanes) + 30}'>"]
    for i, (host, pid) in enumerate(lanes):
        parts.append(f"<text class='lane' x='0' y='{i * row + 13}'>{escape(process_place(pid, host))}</text>")
    lane_of = {lane: i for i, lane in enumerate(lanes)}
    for entry in timed:
        y = lane_of[(entry.get("host") or "?", entry.get("pid") or 0)] * row + 2
        x = label + (entry["started"] - origin) / span * width
        w = max((entry["ended"] - entry["started"]) / span * width, 1.0)
        color = COLORS.get(entry.get("state", ""), "#888")
        tip = f"{entry['node']}: {entry.get('state')} {entry['ended'] - entry['started']:.3f}s"
        parts.append(f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{row - 4}' fill='{color}'>"
                     f"<title>{escape(tip)}</title></rect>")
    axis = row * len(lanes) + 20
    parts.append(f"<text class='lane' x='{label}' y='{axis}'>0 s</text><text class='lane' x='{label + width - 40}' "
                 f"y='{axis}'>{span:.1f} s</text></svg>")
    return "".join(parts)


GRAPH_LIMIT = 200
"""Jobs drawn in the page's graph; a larger run is drawn with ``flowmill graph``."""


def _depths(record: RunRecord, jobs: list[str]) -> dict[str, int]:
    """Each job's layer: one below its deepest parent."""
    depth: dict[str, int] = {}
    for job in jobs:
        stack = [job]
        while stack:
            top = stack[-1]
            pending = [p for p in record.parents.get(top, ()) if p not in depth]
            if pending:
                stack.extend(pending)
                continue
            depth[top] = 1 + max((depth[p] for p in record.parents.get(top, ())), default=-1)
            stack.pop()
    return depth


def _graph(record: RunRecord) -> str:
    """The run's jobs in layers (parents above), coloured by state."""
    jobs = list(dict.fromkeys([*record.nodes, *record.parents]))
    if len(jobs) > GRAPH_LIMIT:
        return (f"<p>{len(jobs)} jobs: too many to draw here; <code>flowmill graph "
                f"{escape(record.run.get('workflow_dir', 'DIR'))} -o graph.svg</code> draws them.</p>")
    depth = _depths(record, jobs)
    layers: dict[int, list[str]] = {}
    for job in jobs:
        layers.setdefault(depth[job], []).append(job)
    box_w, box_h, gap_x, gap_y = 120, 24, 14, 36
    where = {job: (i * (box_w + gap_x) + 4, layer * (box_h + gap_y) + 4)
             for layer, members in layers.items() for i, job in enumerate(members)}
    width = max(len(members) for members in layers.values()) * (box_w + gap_x) + 8
    parts = [f"<svg id='graph' xmlns='http://www.w3.org/2000/svg' width='{width}' "
             f"height='{len(layers) * (box_h + gap_y) + 8}'>"]
    for job, parents in record.parents.items():
        x, y = where[job]
        for parent in parents:
            px, py = where[parent]
            parts.append(f"<line x1='{px + box_w / 2}' y1='{py + box_h}' x2='{x + box_w / 2}' y2='{y}' "
                         "stroke='#888'/>")
    for job, (x, y) in where.items():
        state = record.nodes.get(job, {}).get("state", "")
        label = job if len(job) <= 18 else job[:17] + "…"
        parts.append(f"<g><title>{escape(job)}: {escape(state or 'not settled')}</title><rect x='{x}' y='{y}' "
                     f"width='{box_w}' height='{box_h}' rx='4' fill='{COLORS.get(state, '#ffffff')}' "
                     f"fill-opacity='0.35' stroke='#555'/><text class='lane' x='{x + 6}' y='{y + 16}'>"
                     f"{escape(label)}</text></g>")
    return "".join(parts) + "</svg>"


def _tail(entry: dict[str, Any]) -> str:
    try:
        crash = read_crash(Path(entry["crash_file"]))
    except (KeyError, OSError, ValueError):
        return ""
    text = crash.get("details", {}).get("stderr_tail") or crash.get("traceback") or ""
    return "\n".join(str(text).splitlines()[-TAIL:])


def _failures(record: RunRecord) -> str:
    failed = record.with_state("failed")
    if not failed:
        return "<p>No failure.</p>"
    parts = []
    for node in failed:
        entry = record.nodes[node]
        parts.append(f"<h3 class='failed'>{escape(node)}</h3><p>{escape(str(entry.get('error')))}<br>crash file: "
                     f"<code>{escape(str(entry.get('crash_file')))}</code></p><pre>{escape(_tail(entry))}</pre>")
    return "".join(parts)


def render(record: RunRecord) -> str:
    run = record.run
    title = f"flowmill run {run['run']} of {run['workflow']}"
    took = (f"{record.end['ended'] - run['started']:.1f} s" if record.end else "not ended")
    options = ", ".join(f"{k}={v!r}" for k, v in {**run.get("options", {}), **run.get("backend_options", {})}.items())
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f"<p id='summary'>backend {escape(run['backend'])}, started {escape(when(run['started']))} on "
            f"{escape(str(run.get('driver_host')))}, took {escape(took)}<br>{escape(counts_line(record))}<br>"
            f"options: {escape(options)}</p>"
            f"<h2>Failures</h2>{_failures(record)}<h2>Timeline</h2>{_timeline(record)}"
            f"<h2>Graph</h2>{_graph(record)}"
            f"<h2>Nodes</h2>{_table(record)}<script>{SCRIPT}</script></body></html>")
