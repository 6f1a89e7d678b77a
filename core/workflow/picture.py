"""Pictures of a workflow (``Workflow.write_graph``): Graphviz dot or Mermaid text,
or an SVG/PNG/PDF drawn by Graphviz's ``dot`` when it is installed. The collapsed
view has one box per node (iterables and map elements folded into it, its label
counting what it folds: ``a (×3)``, ``m (4 elements)``); the expanded view one box
per job. When the workflow has run, boxes take the colour of the last
run's states (a folded box: its worst instance)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import FlowmillError
from ..store.runs import RunRecord, find_record, read_record
from .build import build_graph

if TYPE_CHECKING:
    from .workflow import Workflow

COLORS = {"ran": "#a6e3a1", "cached": "#b4d0f0", "failed": "#f38ba8", "skipped": "#d9d9d9",
          "pending": "#f9e2af"}

WORST_FIRST = ("failed", "skipped", "pending", "ran", "cached")
"""A folded box shows the first of these states among its instances."""

TEXT = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}
RENDERED = (".svg", ".png", ".pdf")

Picture = tuple[list[str], list[tuple[str, str, str]], dict[str, str], dict[str, str]]
"""Boxes, edges (source, target, label), each box's state, and the labels of the boxes
whose label is not their name."""


def picture(workflow: Workflow, workflow_dir: Path, expanded: bool) -> Picture:
    graph = build_graph(workflow, workflow_dir, "content")
    path = find_record(workflow_dir)
    last = {node: entry["state"] for node, entry in read_record(path).nodes.items()} if path else {}
    if expanded:
        edges = [(parent, job_id, "") for job_id, parents in graph.parents.items() for parent in parents]
        return list(graph.jobs), edges, {job_id: last[job_id] for job_id in graph.jobs if job_id in last}, {}
    nodes, connections = workflow.flatten()
    edges = [(edge.src, edge.dst, f"{edge.src_field} → {edge.dst_field}") for edge in connections]
    elements = Counter(job.group for job in graph.jobs.values() if job.group is not None)
    states, labels = {}, {}
    for node, (expansions, _) in graph.nodes.items():
        seen = {last[job_id] for job_id, _ in expansions if job_id in last}
        state = next((state for state in WORST_FIRST if state in seen), None)
        if state is not None:
            states[node] = state
        folded = _folded(len(expansions), sum(elements[job_id] for job_id, _ in expansions))
        if folded:
            labels[node] = f"{node} ({folded})"
    return list(nodes), edges, states, labels


def _folded(instances: int, elements: int) -> str:
    """What a collapsed box stands for: its iterables' instances (``×3``) and the map
    elements known before the run (a MapNode fed a list only at run time has none yet)."""
    parts = [f"×{instances}"] if instances > 1 else []
    if elements:
        parts.append(f"{elements} element{'s' if elements > 1 else ''}")
    return ", ".join(parts)


def record_picture(record: RunRecord) -> Picture:
    """The jobs of a recorded run, with their edges and states (``flowmill graph``)."""
    linked = [job for parents in record.parents.values() for job in parents]
    boxes = list(dict.fromkeys([*record.nodes, *record.parents, *linked]))
    edges = [(parent, job_id, "") for job_id, parents in record.parents.items() for parent in parents]
    return boxes, edges, {node: entry["state"] for node, entry in record.nodes.items()}, {}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(name: str, pic: Picture) -> str:
    boxes, edges, states, labels = pic
    lines = [f"digraph {_quote(name)} {{", "  rankdir=TB;", '  node [shape=box, style="rounded,filled", '
             'fillcolor="#ffffff", fontname="Helvetica"];']
    for box in boxes:
        color = f", fillcolor={_quote(COLORS[states[box]])}" if box in states else ""
        lines.append(f"  {_quote(box)} [label={_quote(labels.get(box, box))}{color}];")
    for src, dst, label in edges:
        lines.append(f"  {_quote(src)} -> {_quote(dst)}" + (f" [label={_quote(label)}];" if label else ";"))
    return "\n".join(lines + ["}"]) + "\n"


def to_mermaid(pic: Picture) -> str:
    boxes, edges, states, labels = pic
    ids = {box: f"n{i}" for i, box in enumerate(boxes)}
    lines = ["flowchart TD"]
    lines += [f'  {ids[box]}["{labels.get(box, box).replace(chr(34), "#quot;")}"]' for box in boxes]
    for src, dst, label in edges:
        lines.append(f"  {ids[src]} -->|{label}| {ids[dst]}" if label else f"  {ids[src]} --> {ids[dst]}")
    for state, color in COLORS.items():
        members = [ids[box] for box in boxes if states.get(box) == state]
        if members:
            lines += [f"  classDef {state} fill:{color}", f"  class {','.join(members)} {state}"]
    return "\n".join(lines) + "\n"


def write_picture(name: str, pic: Picture, path: Path) -> Path:
    """Write ``pic`` in the format ``path``'s suffix names."""
    suffix = path.suffix.lower()
    if suffix not in TEXT and suffix not in RENDERED:
        raise FlowmillError(f"write_graph({str(path)!r}): name a .dot, .mmd, .svg, .png or .pdf file")
    if TEXT.get(suffix) == "mermaid":
        path.write_text(to_mermaid(pic), encoding="utf-8")
        return path
    dot = to_dot(name, pic)
    if suffix in TEXT:
        path.write_text(dot, encoding="utf-8")
        return path
    program = shutil.which("dot")
    if program is None:
        raise FlowmillError(f"write_graph({str(path)!r}): drawing {suffix} needs Graphviz's `dot` program, which "
                            "is not installed (Debian: apt-get install graphviz); write a .dot or .mmd file instead")
    done = subprocess.run([program, f"-T{suffix[1:]}", "-o", str(path)], input=dot.encode(), capture_output=True)
    if done.returncode != 0:
        raise FlowmillError(f"write_graph: dot failed: {done.stderr.decode(errors='replace').strip()}")
    return path
