"""``RunResult._repr_html_``, parsed as HTML: counts, each node's state and figures,
failures with their crash files."""

from __future__ import annotations

import socket
from html.parser import HTMLParser

import pytest

from flowmill import Node, Workflow, WorkflowError


class Table(HTMLParser):
    """The text of the paragraphs and the rows of the table."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.rows: list[list[str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self.paragraphs.append("")
            self._in = "p"
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self._in = "cell"

    def handle_endtag(self, tag):
        if tag in ("p", "td", "th"):
            self._in = None

    def handle_data(self, data):
        if self._in == "p":
            self.paragraphs[-1] += data
        elif self._in == "cell":
            self.rows[-1][-1] += data


def inc(x: int) -> int:
    return x + 1


def fail(x: int) -> int:
    raise ValueError(f"no <{x}>")


def test_repr_html_shows_states_durations_and_failures(tmp_path):
    wf = Workflow("nb", base_dir=tmp_path)
    a = Node(fail, name="a")
    a.inputs.x = 1
    b = Node(inc, name="b")
    wf.connect(a, "out", b, "x")
    c = Node(inc, name="c")
    c.inputs.x = 2
    wf.add_nodes([c])
    with pytest.raises(WorkflowError) as caught:
        wf.run(progress=False)
    result = caught.value.result
    page = Table()
    page.feed(result._repr_html_())
    assert page.paragraphs == [f"flowmill run {result.run_id} of {tmp_path / 'nb'}: ran 1, failed 1, skipped 1"]
    header, *rows = page.rows
    assert header == ["node", "state", "seconds", "host", "cpu s", "peak MiB", "error", "crash file"]
    by_node = {row[0]: row for row in rows}
    assert by_node["a"][1] == "failed" and by_node["a"][6] == "ValueError: no <1>"
    assert by_node["a"][7] == str(tmp_path / "nb" / "a" / "crash.json")
    assert by_node["c"][1] == "ran" and float(by_node["c"][2]) >= 0 and by_node["c"][3] == socket.gethostname()
    assert float(by_node["c"][4]) >= 0 and int(by_node["c"][5]) > 0
    assert by_node["b"][1] == "skipped"
    assert rows[0][0] == "a", "failures come first"
