"""A run in a real Jupyter kernel: a compact progress display updated in place, the
result shown by its ``_repr_html_``, and no other output (no engine logs, no
traceback from the ipython backend's event loop)."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any, Iterator

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parent.parent

CELL = """
from flowmill import Node, Workflow

def inc(x: int) -> int:
    return x + 1

wf = Workflow("nb", base_dir={base_dir!r})
previous = None
for i in range(4):
    node = Node(inc, name=f"n{{i}}")
    if previous is None:
        node.inputs.x = 0
    else:
        wf.connect(previous, "out", node, "x")
    previous = node
wf.run({options})
"""


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(REPO))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def outputs(client: Any, code: str, timeout: float = 120) -> list[tuple[str, dict[str, Any]]]:
    """Every output message of one cell (type, content), until the kernel is idle."""
    msg_id = client.execute(code)
    found = []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the cell did not finish in {timeout}s; outputs so far: {found}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return found
        if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            found.append((kind, msg["content"]))


def check_cell(found: list[tuple[str, dict[str, Any]]]) -> None:
    kinds = [kind for kind, _ in found]
    assert kinds[0] == "display_data" and "flowmill-progress" in found[0][1]["data"]["text/html"]
    assert kinds[-1] == "execute_result" and "flowmill run " in found[-1][1]["data"]["text/html"]
    final = [content for kind, content in found if kind == "update_display_data"][-1]["data"]["text/html"]
    assert "4/4" in final and "done 4" in final and "finished: RunResult(" in final
    assert set(kinds) <= {"display_data", "update_display_data", "execute_result"}, found


def test_a_run_in_a_notebook_shows_one_display_and_its_result(kernel, tmp_path):
    check_cell(outputs(kernel, CELL.format(base_dir=str(tmp_path), options="")))


FAILING = """
from flowmill import Node, Workflow

def fail(x: int) -> int:
    raise ValueError("broken on purpose")

wf = Workflow("nbfail", base_dir={base_dir!r})
node = Node(fail, name="bad")
node.inputs.x = 1
wf.add_nodes([node])
wf.run()
"""


def test_a_failure_in_a_notebook_is_listed_in_the_display(kernel, tmp_path):
    found = outputs(kernel, FAILING.format(base_dir=str(tmp_path)))
    final = [content for kind, content in found if kind == "update_display_data"][-1]["data"]["text/html"]
    assert "<b>bad</b>: ValueError: broken on purpose" in final and "failed 1" in final
    assert [content["ename"] for kind, content in found if kind == "error"] == ["WorkflowError"]
    assert not any("observer" in content.get("text", "") for kind, content in found if kind == "stream"), found


@pytest.mark.ipython
def test_an_ipython_run_in_a_notebook_prints_no_engine_log_nor_traceback(kernel, tmp_path, ipython_run_options):
    options = ", ".join(f"{name}={value!r}" for name, value in {"plugin": "ipython", **ipython_run_options}.items())
    found = outputs(kernel, CELL.format(base_dir=str(tmp_path), options=options))
    assert not any("Event loop stopped" in str(content) for _, content in found), found
    check_cell(found)


@pytest.mark.ipython
def test_an_ipython_run_on_a_temporary_cluster_in_a_notebook(kernel, tmp_path):
    """flowmill's own warning that it starts a cluster is the only line besides the displays."""
    found = outputs(kernel, CELL.format(base_dir=str(tmp_path), options="plugin='ipython', n_engines=2"))
    streams = [content["text"] for kind, content in found if kind == "stream"]
    assert len(streams) == 1 and streams[0].startswith("ipython backend: no cluster named"), streams
    check_cell([(kind, content) for kind, content in found if kind != "stream"])


DEFINE = """
from flowmill import Node, Workflow

def helper(x: int) -> int:
    return x + 1

def step(x: int) -> int:
    return helper(x)

wf = Workflow("redefined", base_dir={base_dir!r})
node = Node(step, name="step")
node.inputs.x = 1
wf.add_nodes([node])
"""

RUN = """
res = wf.run(progress=False)
print(res["step"].out, res.executed, res.why("step") if res.executed else None)
"""


def printed(found: list[tuple[str, dict[str, Any]]]) -> str:
    assert not [content for kind, content in found if kind == "error"], found
    return "".join(content["text"] for kind, content in found if kind == "stream" and content["name"] == "stdout")


def test_a_helper_redefined_in_a_cell_reruns_the_node_that_calls_it(kernel, tmp_path):
    """The same workflow object run again in the same kernel after a cell redefined
    the helper its node's function calls: the node reruns with the new helper (it kept
    the code digest of its first run, and reran nothing)."""
    outputs(kernel, DEFINE.format(base_dir=str(tmp_path)))
    assert printed(outputs(kernel, RUN)) == "2 ['step'] no earlier result\n"
    assert printed(outputs(kernel, RUN)) == "2 [] None\n"
    outputs(kernel, "def helper(x: int) -> int:\n    return x + 100\n")
    assert printed(outputs(kernel, RUN)) == "101 ['step'] its code changed\n"
