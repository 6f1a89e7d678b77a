"""``cache_libraries=True``: a function node's result is reused only while the installed
distributions its code reaches, and Python's minor version, are those it was made
with. Tested with a real distribution, pip-installed in two versions one after the
other into a throwaway venv whose Python runs the workflow (the driver caches the
module -> distribution map per process, so each run is its own process, as a user's
runs after an upgrade are)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """
[build-system]
requires = ["flit_core>=3.4"]
build-backend = "flit_core.buildapi"

[project]
name = "tinylib"
version = "{version}"
description = "a library whose versions differ in what they compute"
"""

WORKFLOW = '''
import json, sys
from flowmill import Node, Workflow
import tinylib

def direct(x: int) -> int:
    """Reaches tinylib through a global and an attribute."""
    return tinylib.scale(x)

def imports_inside(x: int) -> int:
    """Reaches tinylib only through an import in its body (read from the bytecode)."""
    from tinylib import scale
    return scale(x) + 1

def plain(x: int) -> int:
    return x - 1

wf = Workflow("libs", base_dir=sys.argv[1])
for func in (direct, imports_inside, plain):
    node = Node(func, name=func.__name__)
    node.inputs.x = 5
    wf.add_nodes([node])
res = wf.run(progress=False, **json.loads(sys.argv[2]))
print(json.dumps({"executed": sorted(res.executed), "why": {name: res.why(name) for name in res.executed},
                  "out": {name: res[name].out for name in ("direct", "imports_inside", "plain")}}))
'''


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A throwaway venv that sees this checkout's flowmill (its site-packages, editable
    installs included, added by a ``.pth`` line) but has its own site-packages for tinylib."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root / "env")], check=True)
    python = root / "env" / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    ours = [path for path in sys.path if path.endswith("site-packages")]
    (Path(own) / "outer.pth").write_text("".join(f"import site; site.addsitedir({path!r})\n" for path in ours))
    return python


def install(python: Path, where: Path, version: str, factor: int) -> None:
    source = where / f"tinylib-{version}"
    (source / "tinylib").mkdir(parents=True)
    (source / "pyproject.toml").write_text(PYPROJECT.format(version=version))
    (source / "tinylib" / "__init__.py").write_text(textwrap.dedent(f"""
        def scale(x):
            return x * {factor}
        """))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                    str(source)], check=True, capture_output=True)


def run(python: Path, script: Path, base_dir: Path, **options: object) -> dict:
    done = subprocess.run([str(python), str(script), str(base_dir), json.dumps(options)],
                          capture_output=True, text=True, cwd=script.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_an_upgrade_reruns_what_reaches_the_library_only_with_the_option(venv, tmp_path):
    """On linear, then (once the library is upgraded) on multiproc, whose workers
    record the versions the driver then compares. About a minute: two pip installs
    that build the distribution, and a process per run."""
    script = tmp_path / "wf.py"
    script.write_text(WORKFLOW)
    base = tmp_path / "work"
    install(venv, tmp_path, "1.0.2", 2)
    everything = ["direct", "imports_inside", "plain"]

    first = run(venv, script, base)
    assert first["executed"] == everything and first["out"] == {"direct": 10, "imports_inside": 11, "plain": 4}

    switched_on = run(venv, script, base, cache_libraries=True)
    assert switched_on["executed"] == everything, "switching the option on reruns each result once"
    assert all("cache_libraries" in why for why in switched_on["why"].values()), switched_on["why"]
    assert run(venv, script, base, cache_libraries=True)["executed"] == []

    install(venv, tmp_path, "1.0.3", 3)
    switched_off = run(venv, script, base)
    assert switched_off["executed"] == [], "without the option, versions are not compared"
    assert switched_off["out"]["direct"] == 10

    upgraded = run(venv, script, base, cache_libraries=True, plugin="multiproc")
    assert upgraded["executed"] == ["direct", "imports_inside"], "plain reaches no library"
    assert upgraded["why"] == {"direct": "library tinylib changed 1.0.2 -> 1.0.3",
                               "imports_inside": "library tinylib changed 1.0.2 -> 1.0.3"}
    assert upgraded["out"] == {"direct": 15, "imports_inside": 16, "plain": 4}
    assert run(venv, script, base, cache_libraries=True, plugin="multiproc")["executed"] == []
