"""Per-node log lines at INFO on the ``flowmill`` logger, and no handler unless asked."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys

import pytest

import flowmill
from flowmill import Node, Workflow, WorkflowError

from .plugin_examples import ExamplePlugin


def inc(x: int) -> int:
    return x + 1


def fail(x: int) -> int:
    raise ValueError(f"no {x}")


def three_nodes(tmp_path, first=inc) -> Workflow:
    wf = Workflow("logged", base_dir=tmp_path)
    a = Node(first, name="a")
    a.inputs.x = 1
    b = Node(inc, name="b")
    wf.connect(a, "out", b, "x")
    c = Node(inc, name="c")
    c.inputs.x = 5
    wf.add_nodes([c])
    return wf


def node_lines(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "flowmill" and "node " in r.getMessage()]


def test_each_node_logs_started_and_finished_with_duration_then_cached(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="flowmill")
    three_nodes(tmp_path).run()
    lines = node_lines(caplog)
    assert all(level == logging.INFO for level, _ in lines)
    for node in "abc":
        assert f"node {node} started on {socket.gethostname()} pid {os.getpid()}" in [text for _, text in lines], \
            "linear runs the nodes in the driver"
        assert any(text.startswith(f"node {node} finished in ") and f"s on {socket.gethostname()}; it ran because: " in text
                   for _, text in lines)
    caplog.clear()
    three_nodes(tmp_path).run()
    assert sorted(text for _, text in node_lines(caplog)) == ["node a cached", "node b cached", "node c cached"]


def test_failed_and_skipped_nodes_are_logged_with_their_ids(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="flowmill")
    with pytest.raises(WorkflowError):
        three_nodes(tmp_path, first=fail).run()
    texts = [text for _, text in node_lines(caplog)]
    assert any(text.startswith("node a failed: ValueError: no 1") for text in texts)
    assert "node b skipped because of a" in texts


class Retries:
    """Collects ``flowmill_node_retried`` events."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, str]] = []

    @flowmill.hookimpl
    def flowmill_node_retried(self, job, attempt, reason):
        self.seen.append((job.id, attempt, reason))


def test_a_retry_is_an_event_and_a_log_line(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="flowmill")
    example, retries = ExamplePlugin(), Retries()
    flowmill.register(example)
    flowmill.register(retries)
    try:
        wf = Workflow("one", base_dir=tmp_path)
        node = Node(inc, name="n")
        node.inputs.x = 1
        wf.add_nodes([node])
        wf.run(plugin="pool", lose_first=1, retries=1)
    finally:
        flowmill.unregister(example)
        flowmill.unregister(retries)
    assert retries.seen == [("n", 2, "worker vanished")]
    assert any("node n was lost (worker vanished); resubmitting" in text for _, text in node_lines(caplog))


RUN = """
import logging, sys
from flowmill import Node, Workflow
def inc(x: int) -> int:
    return x + 1
wf = Workflow("quiet", base_dir=sys.argv[1])
n = Node(inc, name="n"); n.inputs.x = 1
wf.add_nodes([n])
{setup}
wf.run(progress=False)
print(logging.getLogger("flowmill").handlers, logging.getLogger().handlers)
"""


def run_script(tmp_path, setup: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(RUN.format(setup=setup))
    return subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, check=True)


def test_the_library_installs_no_handler(tmp_path):
    done = run_script(tmp_path, "")
    assert done.stdout == "[] []\n" and done.stderr == ""


def test_log_to_stderr_shows_the_node_lines(tmp_path):
    done = run_script(tmp_path, "import flowmill; flowmill.log_to_stderr(); flowmill.log_to_stderr()")
    assert done.stdout.startswith("[<StreamHandler") and done.stdout.count("StreamHandler") == 1
    assert re.search(r" INFO flowmill: node n started on \S+ pid \d+\n", done.stderr)
    assert " INFO flowmill: node n finished in " in done.stderr
