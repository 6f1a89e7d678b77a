"""The code part of the cache key follows the user's code the node function reaches:
helpers in the same file or another module, module constants, closure values."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from flowmill import Node, Workflow


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text))
    importlib.invalidate_caches()


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """A fresh package of user modules, reloaded after each edit as a new run would."""
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [name for name in sys.modules if name == "userpkg" or name.startswith("userpkg.")]:
        del sys.modules[name]


def load(name: str):
    module = importlib.import_module(name)
    return importlib.reload(module)


def one_node(func, base_dir: Path) -> Workflow:
    wf = Workflow("code", base_dir=base_dir)
    node = Node(func, name="f")
    node.inputs.x = 1
    wf.add_nodes([node])
    return wf


STEPS = {
    "helper in the same module": (
        """
        def helper(x):
            return x + 1

        def f(x):
            return helper(x)
        """,
        """
        def helper(x):
            return x + 100

        def f(x):
            return helper(x)
        """, 2, 101),
    "module constant": (
        """
        SCALE = 2

        def f(x):
            return x * SCALE
        """,
        """
        SCALE = 30

        def f(x):
            return x * SCALE
        """, 2, 30),
    "method of a class used": (
        """
        class Scaler:
            def apply(self, x):
                return x * 2

        def f(x):
            return Scaler().apply(x)
        """,
        """
        class Scaler:
            def apply(self, x):
                return x * 7

        def f(x):
            return Scaler().apply(x)
        """, 2, 7),
}


@pytest.mark.parametrize("case", STEPS)
def test_an_edit_the_function_reaches_reruns_it(backend, modules, tmp_path, case):
    before, after, first, second = STEPS[case]
    write(modules / "steps.py", before)
    res = backend.run(one_node(load("userpkg.steps").f, tmp_path))
    assert res["f"].out == first
    assert backend.run(one_node(load("userpkg.steps").f, tmp_path)).cached == ["f"]
    write(modules / "steps.py", after)
    res = backend.run(one_node(load("userpkg.steps").f, tmp_path))
    assert res.executed == ["f"] and res["f"].out == second and res.why("f") == "its code changed"


def same(x: int) -> int:
    return x


def test_an_edit_in_another_user_module_reruns(backend, modules, tmp_path):
    """Also: below a node that runs, a graph-level backend's job takes its own key; the
    next run's driver finds the same one."""
    write(modules / "maths.py", "def twice(x):\n    return 2 * x\n")
    write(modules / "main.py", """
        from userpkg import maths
        from userpkg.maths import twice

        def f(x):
            return maths.twice(x) + twice(x)
        """)

    def build(x: int) -> Workflow:
        load("userpkg.maths")
        wf = Workflow("code", base_dir=tmp_path)
        source = Node(same, name="source")
        source.inputs.x = x
        wf.connect(source, "out", Node(load("userpkg.main").f, name="f"), "x")
        return wf

    assert backend.run(build(1))["f"].out == 4
    write(modules / "maths.py", "def twice(x):\n    return 20 * x\n")
    res = backend.run(build(1))
    assert res.executed == ["f"] and res["f"].out == 40
    assert backend.run(build(2))["f"].out == 80
    assert sorted(backend.run(build(2)).cached) == ["f", "source"]


def test_a_module_reached_twice_is_walked_for_each_use(backend, modules, tmp_path):
    """``f`` uses ``helpers.a`` and calls ``g``, which uses ``helpers.b`` (and is walked
    first): an edit of ``a`` reruns ``f``."""
    write(modules / "helpers.py", "def a(x):\n    return x\n\ndef b(x):\n    return 10 * x\n")
    write(modules / "uses.py", """
        from userpkg import helpers

        def g(x):
            return helpers.b(x)

        def f(x):
            return helpers.a(x) + g(x)
        """)
    load("userpkg.helpers")
    assert backend.run(one_node(load("userpkg.uses").f, tmp_path))["f"].out == 11
    write(modules / "helpers.py", "def a(x):\n    return 5 * x\n\ndef b(x):\n    return 10 * x\n")
    load("userpkg.helpers")
    res = backend.run(one_node(load("userpkg.uses").f, tmp_path))
    assert res.executed == ["f"] and res["f"].out == 15


def make_scaler(k: int):
    def scale(x: int) -> int:
        return x * k
    return scale


def test_closure_values_are_part_of_the_key(backend, tmp_path):
    assert backend.run(one_node(make_scaler(2), tmp_path))["f"].out == 2
    assert backend.run(one_node(make_scaler(2), tmp_path)).cached == ["f"]
    res = backend.run(one_node(make_scaler(3), tmp_path))
    assert res.executed == ["f"] and res["f"].out == 3


def test_installed_libraries_and_recursion_are_walked_safely(modules, tmp_path):
    write(modules / "loop.py", """
        import json
        import math

        def even(n):
            return True if n == 0 else odd(n - 1)

        def odd(n):
            return False if n == 0 else even(n - 1)

        def f(x):
            return even(x) and math.sqrt(x) > 0 and bool(json.dumps(x))
        """)
    from flowmill.store.code import code_digest, forget_code

    loop = load("userpkg.loop")
    forget_code()
    odd_first = code_digest(loop.odd), code_digest(loop.f)
    forget_code()
    f_first = code_digest(loop.f)
    assert (code_digest(loop.odd), f_first) == odd_first
    assert one_node(loop.f, tmp_path).run()["f"].out is False

