"""The engine on the default backend: validation, caching, crash files, the store."""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import threading

import pytest

import flowmill
from flowmill import File, Node, ValidationError, Workflow, WorkflowError

from .plugin_examples import ExamplePlugin


def add(x: int, y: int = 1) -> int:
    return x + y


def split(x: int) -> tuple[int, int]:
    return x, -x


def read_text(path: File) -> str:
    with open(path) as handle:
        return handle.read()


def test_issue_example(tmp_path):
    wf = Workflow("demo", base_dir=tmp_path)
    a = Node(add, name="a")
    a.inputs.x = 1
    b = Node(add, name="b", outputs=["out"])
    wf.connect(a, "out", b, "x")
    wf.connect([(a, b, [("out", "y")])])
    res = wf.run()
    assert res["b"].out == 4
    assert (tmp_path / "demo" / "b" / "result.pkl").is_file()
    assert wf.run().cached == ["a", "b"]


def test_several_outputs_from_a_tuple(tmp_path):
    wf = Workflow("tuple", base_dir=tmp_path)
    node = Node(split, name="s", outputs=["pos", "neg"])
    node.inputs.x = 3
    wf.add_nodes([node])
    res = wf.run()
    assert (res["s"].pos, res["s"].neg) == (3, -3)
    with pytest.raises(AttributeError, match=r"has no output 'zero'; its outputs are \['pos', 'neg'\]"):
        res["s"].zero


def test_wrong_number_of_returned_values_fails_the_node(tmp_path):
    wf = Workflow("arity", base_dir=tmp_path)
    node = Node(add, name="n", outputs=["a", "b"])
    node.inputs.x = 1
    wf.add_nodes([node])
    with pytest.raises(WorkflowError, match="must return a tuple of 2 values, but returned int"):
        wf.run()


def test_inseries_and_plugin_args_forms(tmp_path):
    wf = Workflow("forms", base_dir=tmp_path)
    node = Node(add, name="n")
    node.inputs.x = 1
    wf.add_nodes([node])
    assert wf.run(inseries=True)["n"].out == 2
    assert wf.run(plugin="linear", plugin_args={"retries": 0}).cached == ["n"]
    with pytest.raises(ValidationError, match="given both as keywords and in plugin_args"):
        wf.run(plugin_args={"retries": 1}, retries=1)


@pytest.mark.parametrize("build, message", [
    (lambda wf: wf.connect(Node(add, name="a"), "nope", Node(add, name="b"), "x"),
     r"node 'a' has no output 'nope'; its outputs are \['out'\]"),
    (lambda wf: wf.connect(Node(add, name="a"), "out", Node(add, name="b"), "z"),
     r"node 'b' has no input 'z'; its inputs are \['x', 'y'\]"),
    (lambda wf: wf.add_nodes([Node(add, name="a"), Node(add, name="a")]),
     "already has an element named 'a'"),
    (lambda wf: Node(add, name="bad name"), "node name 'bad name' is not valid"),
    (lambda wf: Node(lambda x: x), "a lambda needs an explicit node name"),
])
def test_bad_graphs_fail_at_once(tmp_path, build, message):
    with pytest.raises(ValidationError, match=message):
        build(Workflow("bad", base_dir=tmp_path))


def test_unknown_input_attribute_is_refused():
    node = Node(add, name="a")
    with pytest.raises(ValidationError, match=r"node 'a' has no input 'xx'; its inputs are \['x', 'y'\]"):
        node.inputs.xx = 1


def test_two_connections_into_one_input(tmp_path):
    wf = Workflow("twice", base_dir=tmp_path)
    a, b, c = Node(add, name="a"), Node(add, name="b"), Node(add, name="c")
    wf.connect(a, "out", c, "x")
    with pytest.raises(ValidationError, match="input 'x' of node 'c' is already connected from a.out"):
        wf.connect(b, "out", c, "x")


def test_cycle_is_named_before_anything_runs(tmp_path):
    wf = Workflow("cycle", base_dir=tmp_path)
    a, b = Node(add, name="a"), Node(add, name="b")
    wf.connect(a, "out", b, "x")
    wf.connect(b, "out", a, "x")
    with pytest.raises(ValidationError, match=r"the workflow has a cycle: (a -> b -> a|b -> a -> b)"):
        wf.run()
    assert not (tmp_path / "cycle" / "a").exists()


def test_missing_mandatory_input(tmp_path):
    wf = Workflow("mand", base_dir=tmp_path)
    wf.add_nodes([Node(add, name="a")])
    with pytest.raises(ValidationError, match=r"node 'a': mandatory input\(s\) \['x'\] are neither set nor connected"):
        wf.run()


def test_unpicklable_input_is_refused_up_front_for_pickling_backends(tmp_path):
    plugin = ExamplePlugin()
    flowmill.register(plugin)
    try:
        wf = Workflow("pick", base_dir=tmp_path)
        node = Node(add, name="n")
        node.inputs.x = threading.Lock()
        wf.add_nodes([node])
        with pytest.raises(ValidationError, match=r"node 'n': input 'x' \(lock\) cannot be pickled"):
            wf.run(plugin="pickpool")
        assert not (tmp_path / "pick" / "n").exists()
    finally:
        flowmill.unregister(plugin)


def test_edited_function_reruns_unchanged_does_not(tmp_path, monkeypatch):
    module = tmp_path / "userfuncs.py"
    module.write_text("def f(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import userfuncs

    def build():
        wf = Workflow("edit", base_dir=tmp_path)
        node = Node(userfuncs.f, name="f")
        node.inputs.x = 1
        wf.add_nodes([node])
        return wf

    assert build().run()["f"].out == 2
    assert build().run().cached == ["f"]
    module.write_text("def f(x):\n    return x + 100\n")
    importlib.reload(userfuncs)
    res = build().run()
    assert res.executed == ["f"] and res["f"].out == 101


def test_version_is_part_of_the_cache_key(tmp_path):
    def build(version):
        wf = Workflow("ver", base_dir=tmp_path)
        node = Node(add, name="n", version=version)
        node.inputs.x = 1
        wf.add_nodes([node])
        return wf

    build("1").run()
    assert build("1").run().cached == ["n"]
    assert build("2").run().executed == ["n"]


@pytest.mark.parametrize("method", ["content", "timestamp"])
def test_file_inputs_are_hashed(tmp_path, method):
    data = tmp_path / "input.txt"
    data.write_text("one")

    def build():
        wf = Workflow("files", base_dir=tmp_path)
        node = Node(read_text, name="read")
        node.inputs.path = File(data)
        wf.add_nodes([node])
        return wf

    assert build().run(hash_method=method)["read"].out == "one"
    assert build().run(hash_method=method).cached == ["read"]
    data.write_text("two!")
    res = build().run(hash_method=method)
    assert res.executed == ["read"] and res["read"].out == "two!"


def test_crash_file_is_readable_json_and_the_rerun_command_works(tmp_path):
    wf = Workflow("crash", base_dir=tmp_path)
    node = Node(add, name="n")
    node.inputs.x = "text"
    wf.add_nodes([node])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    crash_file = info.value.failed[0].crash_file
    record = json.loads(crash_file.read_text())
    assert record["error_type"] == "TypeError"
    assert record["inputs"] == {"x": "'text'", "y": "1"}
    assert record["host"] and record["time"] and "flowmill.worker" in record["rerun"]
    rerun = subprocess.run(record["rerun"].split(), capture_output=True, text=True)
    assert rerun.returncode == 1
    assert json.loads(crash_file.read_text())["error_type"] == "TypeError"


def test_worker_runs_a_job_file_and_stores_its_result(tmp_path):
    wf = Workflow("work", base_dir=tmp_path)
    node = Node(add, name="n")
    node.inputs.x = 41
    wf.add_nodes([node])
    from flowmill.workflow.build import build_graph

    job = build_graph(wf, tmp_path / "work", "content").jobs["n"]
    path = job.write()
    done = subprocess.run([sys.executable, "-m", "flowmill.worker", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert flowmill.store.results.read_outputs(job.dir) == {"out": 42}
    assert wf.run().cached == ["n"]


KILLED_WHILE_WRITING = """
import resource, signal, sys
import flowmill

def big(x):
    return bytes(8_000_000) + bytes([x])

limit = int(sys.argv[2])
if limit:
    # The kernel kills this process (SIGXFSZ) when a write crosses the limit: only the
    # 8 MB result does, so the job dies in the middle of writing result.pkl.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
wf = flowmill.Workflow("kill", base_dir=sys.argv[1])
node = flowmill.Node(big, name="n")
node.inputs.x = int(sys.argv[3])
wf.add_nodes([node])
res = wf.run()
print(res.executed, res["n"].out[-1])
"""


def test_job_killed_while_writing_its_result_leaves_none_that_looks_valid(tmp_path):
    script = tmp_path / "kill.py"
    script.write_text(KILLED_WHILE_WRITING)

    def run(x: int, limit: int = 0) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), str(tmp_path), str(limit), str(x)],
                              capture_output=True, text=True)

    assert run(1).stdout.split() == ["['n']", "1"]
    node_dir = tmp_path / "kill" / "n"
    before = (node_dir / "result.pkl").read_bytes()
    killed = run(2, limit=1_000_000)
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr
    assert (node_dir / "result.pkl").read_bytes() == before
    partial = [p for p in node_dir.iterdir() if p.name.startswith(".result.pkl.")]
    assert [p.stat().st_size for p in partial] == [1_000_000], "the job must die while writing its result"
    assert run(2).stdout.split() == ["['n']", "2"]


def test_failed_run_keeps_finished_results_valid(tmp_path):
    def build(bad):
        wf = Workflow("keep", base_dir=tmp_path)
        good = Node(add, name="good")
        good.inputs.x = 1
        broken = Node(add, name="broken")
        broken.inputs.x = "a" if bad else 1
        wf.add_nodes([good, broken])
        return wf

    with pytest.raises(WorkflowError):
        build(True).run()
    res = build(False).run()
    assert res.cached == ["good"] and res.executed == ["broken"]


def test_stop_on_first_crash_skips_the_rest(tmp_path):
    wf = Workflow("stop", base_dir=tmp_path)
    first = Node(add, name="first")
    first.inputs.x = "a"
    later = Node(add, name="later")
    later.inputs.x = 1
    wf.add_nodes([first, later])
    with pytest.raises(WorkflowError) as info:
        wf.run(stop_on_first_crash=True)
    assert info.value.result.skipped == ["later"]


def test_worker_imports_only_what_a_job_needs():
    """Batch backends start one interpreter per node: the worker must not pay for the
    command-node machinery, the plugin manager or the CLI when it runs a function."""
    probe = ("import sys, flowmill.worker; "
             "print(sorted(m for m in ('flowmill.workflow.command', 'flowmill.contract.manager', 'flowmill.cli', 'pluggy', 'psutil') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_listing_backends_does_not_import_their_schedulers():
    """Every run loads all installed plugins to find its backend; a run on the laptop
    must not pay for importing IPython or Ruffus."""
    probe = ("import sys, flowmill; names = sorted(flowmill.installed_backends()); "
             "print(names, sorted(m for m in ('ipyparallel', 'IPython', 'ruffus', 'drmaa') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]"), done.stdout
