"""``flowmill new-backend NAME``: the distribution it writes installs into a fresh
environment, is listed by ``flowmill plugins`` and passes the conformance kit unchanged."""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

import pytest

from flowmill import ValidationError
from flowmill._template import new_backend


def throwaway_venv(path: Path) -> Path:
    """A venv seeing this process's packages (this flowmill included); its python."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--system-site-packages", str(path)], check=True)
    site_packages = next(path.glob("lib/python*/site-packages"))
    (site_packages / "_flowmill_under_test.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages()) + "\n")
    return path / "bin" / "python"


@pytest.mark.slow
def test_a_new_backend_installs_is_listed_and_passes_the_kit(tmp_path):
    created = subprocess.run([sys.executable, "-m", "flowmill.cli", "new-backend", "demo", str(tmp_path)],
                             capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    root = tmp_path / "flowmill-demo"
    python = throwaway_venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(root)], check=True)
    listing = subprocess.run([str(python), "-m", "flowmill.cli", "plugins"], capture_output=True, text=True)
    assert "demo  (flowmill-demo 0.1.0, contract 2)" in listing.stdout, listing.stdout + listing.stderr
    check = subprocess.run([str(python), "-m", "flowmill.cli", "plugins", "--check", "demo"], capture_output=True,
                           text=True)
    assert check.stdout == "backend 'demo' (flowmill-demo 0.1.0): declaration ok\n", check.stdout + check.stderr
    kit = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                         capture_output=True, text=True, timeout=900)
    assert kit.returncode == 0, kit.stdout[-4000:]
    assert " passed" in kit.stdout and "failed" not in kit.stdout


def test_a_backend_name_must_make_a_module_name(tmp_path):
    with pytest.raises(ValidationError, match="backend name 'my-backend': use lower-case letters"):
        new_backend("my-backend", tmp_path)
    new_backend("mine", tmp_path)
    with pytest.raises(ValidationError, match="exists already"):
        new_backend("mine", tmp_path)
