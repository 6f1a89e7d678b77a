"""Debian programs some tests drive for real (a headless browser, Graphviz): installed
with apt-get on first use when the tests run as root, as scripts/sge/start.sh installs
the Grid Engine. With ``FLOWMILL_REQUIRE_TOOLS=1`` (CI) a program that cannot be had
fails the test; elsewhere the test skips, saying what to install."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

_tried: set[str] = set()


def require(program: str, package: str) -> str:
    """The path of ``program``, installing Debian's ``package`` if it is missing."""
    path = shutil.which(program)
    if path is None and package not in _tried and os.geteuid() == 0 and shutil.which("apt-get"):
        _tried.add(package)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, capture_output=True).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, capture_output=True)
        path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (apt-get install -y {package})"
        if os.environ.get("FLOWMILL_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
