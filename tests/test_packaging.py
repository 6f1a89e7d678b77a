"""What a user gets from ``pip install flowmill``: the core distribution alone must
run a workflow, so the default backend comes with it as a dependency (while staying
its own distribution under plugins/linear)."""

from __future__ import annotations

import importlib.metadata
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


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    assert done.returncode == 0, f"pip {' '.join(args)}\n{done.stdout}\n{done.stderr}"


def copy_sources(destination: Path) -> tuple[Path, Path]:
    """Copies of the core and linear sources, so building wheels leaves the checkout clean."""
    core = destination / "flowmill"
    core.mkdir(parents=True)
    for name in CORE_SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, core / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, core / name)
    linear = destination / "flowmill-linear"
    shutil.copytree(REPO / "plugins" / "linear", linear,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    return core, linear


@pytest.mark.slow
def test_pip_install_flowmill_alone_runs_a_workflow_on_the_default_backend(tmp_path):
    core, linear = copy_sources(tmp_path / "src")
    wheels, deps = tmp_path / "wheels", tmp_path / "deps"
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(core), str(linear))
    pip("download", "--quiet", "--only-binary=:all:", "--dest", str(deps),
        *(f"{name}=={importlib.metadata.version(name)}" for name in THIRD_PARTY))
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    isolated = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    pip("--python", str(python), "install", "--quiet", "--no-index", "--find-links", str(wheels),
        "--find-links", str(deps), "flowmill")
    installed = subprocess.run([str(python), "-c", "import flowmill_linear, flowmill; print(flowmill.__file__)"],
                               env=isolated, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    assert str(env_dir) in installed.stdout, "flowmill must come from the fresh environment, not the checkout"
    ran = subprocess.run([str(python), "-c", ONE_NODE], cwd=tmp_path, env=isolated, capture_output=True,
                         text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "2"
