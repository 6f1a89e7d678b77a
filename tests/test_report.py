"""``flowmill report``: a self-contained HTML page of a run (summary, failures,
timeline, graph, node table), checked as parsed HTML and
in a real headless browser (Debian's chromium): it loads without console errors,
sorts its table, and a screenshot shows the timeline."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from flowmill import CommandNode, Node, Workflow, WorkflowError

from .debian_tools import require



def nap(x: float) -> float:
    import time

    time.sleep(x)
    return x


class Page(HTMLParser):
    """Ids and classes seen, the timeline's bars and the table's rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self.rows[-1].append("")
            self._cell = True

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = False

    def handle_data(self, data):
        self.text.append(data)
        if self._cell:
            self.rows[-1][-1] += data

    def count(self, tag: str, **attrs: str) -> int:
        return sum(1 for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items()))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A run with three naps and a command that fails after writing to stderr."""
    tmp = tmp_path_factory.mktemp("report")
    wf = Workflow("rep", base_dir=tmp)
    for i, seconds in enumerate((0.05, 0.3, 0.15)):
        node = Node(nap, name=f"nap{i}")
        node.inputs.x = seconds
        wf.add_nodes([node])
    wf.add_nodes([CommandNode("echo oops on stderr >&2; exit 3", name="tool", shell=True)])
    with pytest.raises(WorkflowError):
        wf.run(progress=False)
    output = tmp / "report.html"
    done = subprocess.run([sys.executable, "-m", "flowmill", "report", str(tmp / "rep"), "-o", str(output)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return output


def test_the_page_holds_summary_failures_timeline_and_table(report):
    page = Page()
    page.feed(report.read_text())
    text = "".join(page.text)
    assert "4 node(s): ran 3, failed 1" in text
    assert "oops on stderr" in text and "command exited with status 3" in text
    assert page.count("svg", id="timeline") == 1 and page.count("svg", id="graph") == 1
    assert page.count("rect") == 8, "a bar per node in the timeline, a box per node in the graph"
    rows = page.rows[1:]
    assert sorted(row[0] for row in rows) == ["nap0", "nap1", "nap2", "tool"]
    assert {row[0]: row[10] for row in rows}["tool"] == "3"
    assert all(("http://" not in v and "https://" not in v) for _, a in page.tags for k, v in a.items()
               if k in ("src", "href") and v), "self-contained: nothing to fetch"


def chromium(report: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require("chromium", "chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=120)


def test_in_a_headless_browser(report, tmp_path):
    done = chromium(report, tmp_path, "--dump-dom", report.as_uri() + "#sort=duration")
    assert done.returncode == 0, done.stderr
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    order = re.findall(r"<tr class=\"\w+\"><td data-v=\"([\w]+)\"", done.stdout)
    assert sorted(order) == ["nap0", "nap1", "nap2", "tool"]
    assert [node for node in order if node.startswith("nap")] == ["nap0", "nap2", "nap1"], "sorted by duration"
    shot = tmp_path / "report.png"
    done = chromium(report, tmp_path, f"--screenshot={shot}", "--window-size=1100,900", report.as_uri())
    assert shot.stat().st_size > 10_000, done.stderr
