"""What a user gets from ``pip install flowmill``: the core distribution alone must
run a workflow, so the default backend comes with it as a dependency (while staying
its own distribution under plugins/linear)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE_SOURCES = ("core", "pyproject.toml", "setup.cfg", "README.md")
THIRD_PARTY = ("pluggy", "cloudpickle", "click", "psutil")
BUILD = ("setuptools>=70.1",)
"""What the distributions' isolated builds need (setuptools builds wheels on its own
from 70.1), fetched with the runtime dependencies so the builds need no index."""

ONE_NODE = """
import flowmill

def inc(x):
    return x + 1

wf = flowmill.Workflow("one", base_dir="work")
node = flowmill.Node(inc, name="n")
node.inputs.x = 1
wf.add_nodes([node])
print(wf.run()["n"].out)
"""


def pip(*args: str, cwd: Path | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"pip {' '.join(args)}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the checkout's core and linear backend in the repository's layout (so
    building leaves the checkout clean), and a directory holding every third-party
    wheel they need to build and install: the only step that may use an index."""
    root = tmp_path_factory.mktemp("packaging")
    src = root / "src"
    src.mkdir()
    for name in CORE_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "plugins" / "linear", src / "plugins" / "linear",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    deps = root / "deps"
    pip("download", "--quiet", "--only-binary=:all:", "--dest", str(deps), *BUILD,
        *(f"{name}=={importlib.metadata.version(name)}" for name in THIRD_PARTY))
    return src, deps


def fresh_venv(where: Path) -> Path:
    """A virtual environment without the system's site packages nor pip (the test's
    pip installs into it with ``--python``); returns its interpreter."""
    venv.create(where, system_site_packages=False, with_pip=False)
    return where / "bin" / "python"


@pytest.mark.slow
def test_pip_install_flowmill_alone_runs_a_workflow_on_the_default_backend(tmp_path, sources):
    src, deps = sources
    wheels = tmp_path / "wheels"
    offline = ("--no-index", "--find-links", str(deps))
    pip("wheel", "--quiet", "--no-deps", *offline, "--wheel-dir", str(wheels), str(src),
        str(src / "plugins" / "linear"))
    python = fresh_venv(tmp_path / "fresh")
    pip("--python", str(python), "install", "--quiet", *offline, "--find-links", str(wheels), "flowmill")
    isolated = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    installed = subprocess.run([str(python), "-c", "import flowmill_linear, flowmill; print(flowmill.__file__)"],
                               env=isolated, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    assert str(tmp_path / "fresh") in installed.stdout, "flowmill must come from the fresh environment"
    ran = subprocess.run([str(python), "-c", ONE_NODE], cwd=tmp_path, env=isolated, capture_output=True,
                         text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "2"


@pytest.mark.slow
def test_requirements_resolve_the_default_backend_from_the_checkout(tmp_path, sources):
    """The README's ``pip install -r requirements.txt`` installs the core and
    plugins/linear in one command: the core's dependency on flowmill-linear must be met
    by the local directory, never looked up on an index (``--no-index`` proves it)."""
    src, deps = sources
    local = [line for line in (REPO / "requirements.txt").read_text().splitlines()
             if line in ("-e .", "-e plugins/linear")]
    assert local == ["-e .", "-e plugins/linear"]
    (src / "requirements.txt").write_text("\n".join(local) + "\n")
    report = tmp_path / "report.json"
    pip("--python", str(fresh_venv(tmp_path / "fresh")), "install", "--dry-run", "--quiet", "--no-index",
        "--find-links", str(deps), "--report", str(report), "-r", "requirements.txt", cwd=src)
    sources_by_name = {item["metadata"]["name"]: item["download_info"]["url"]
                       for item in json.loads(report.read_text())["install"]}
    assert sources_by_name["flowmill-linear"] == (src / "plugins" / "linear").as_uri()
