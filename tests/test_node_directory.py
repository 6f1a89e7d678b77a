"""Function nodes run with their node (or instance) directory as working directory,
as in nipype, on every backend; the driver's own directory is left as it was."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flowmill import MapNode, Node, Workflow


def write_here(value: int) -> tuple[str, str]:
    """Write ``out.txt`` relative, slowly enough for concurrent instances to overlap."""
    with open("out.txt", "w") as handle:
        handle.write(str(value))
    time.sleep(0.05)
    with open("out.txt") as handle:
        return os.getcwd(), handle.read()


def test_function_runs_in_its_node_directory(backend, tmp_path):
    here = os.getcwd()
    wf = Workflow("cwd", base_dir=tmp_path)
    node = Node(write_here, name="w", outputs=["cwd", "text"])
    node.inputs.value = 7
    wf.add_nodes([node])
    res = backend.run(wf)
    assert res["w"].cwd == str(tmp_path / "cwd" / "w")
    assert (tmp_path / "cwd/w/out.txt").read_text() == res["w"].text == "7"
    assert os.getcwd() == here and not Path("out.txt").exists()


def test_each_mapnode_element_writes_in_its_own_directory(backend, tmp_path):
    wf = Workflow("map", base_dir=tmp_path)
    node = MapNode(write_here, name="w", iterfield=["value"], outputs=["cwd", "text"])
    node.inputs.value = list(range(6))
    wf.add_nodes([node])
    res = backend.run(wf)
    assert res["w"].text == [str(i) for i in range(6)]
    assert res["w"].cwd == [str(tmp_path / "map/w/_map" / str(i)) for i in range(6)]
    assert [(tmp_path / "map/w/_map" / str(i) / "out.txt").read_text() for i in range(6)] == res["w"].text


def test_each_iterable_instance_writes_in_its_own_directory(backend, tmp_path):
    wf = Workflow("iter", base_dir=tmp_path)
    node = Node(write_here, name="w", outputs=["cwd", "text"])
    node.iterables = ("value", [1, 2, 3, 4])
    wf.add_nodes([node])
    res = backend.run(wf)
    assert [e.outputs.text for e in res["w"]] == ["1", "2", "3", "4"]
    assert len({e.outputs.cwd for e in res["w"]}) == 4
    assert all(Path(e.outputs.cwd, "out.txt").read_text() == e.outputs.text for e in res["w"])


def test_threads_running_nodes_at_once_keep_their_own_directories(tmp_path):
    """Two runs in threads of one program, and the ruffus multithread mode, run nodes
    concurrently in one process: each keeps its own working directory."""

    def fanout(name: str) -> Workflow:
        wf = Workflow(name, base_dir=tmp_path)
        node = Node(write_here, name="w", outputs=["cwd", "text"])
        node.iterables = ("value", list(range(4)))
        wf.add_nodes([node])
        return wf

    results = {}
    threads = [threading.Thread(target=lambda n=name: results.update({n: fanout(n).run()})) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results["c"] = fanout("c").run(plugin="ruffus", mode="multithread", n_procs=4)
    for name, res in results.items():
        assert [e.outputs.text for e in res["w"]] == ["0", "1", "2", "3"]
        assert all(e.outputs.cwd.startswith(str(tmp_path / name / "w")) for e in res["w"])
