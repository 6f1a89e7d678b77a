"""Kill a driver (``tests.killed_driver``) with SIGKILL mid-run and see what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import psutil

REPO = Path(__file__).resolve().parent.parent


class Aftermath(NamedTuple):
    left: list[str]
    """Processes still alive (not zombies) 10 s after the kill: pid and command line."""
    started_after: set[str]
    """Nodes that started after the kill."""
    finished_after: set[str]
    """Nodes that finished after the kill."""


def alive_processes(processes: list[psutil.Process], mentioning: str | None) -> list[str]:
    """Of ``processes`` and of those whose command line mentions ``mentioning``, the
    ones alive and not zombies: pid and command line."""
    found = {p.pid: p for p in processes}
    if mentioning:
        for process in psutil.process_iter():
            try:
                if any(mentioning in part for part in process.cmdline()):
                    found[process.pid] = process
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    left = []
    for process in found.values():
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            continue
    return left


def kill_mid_run(base: Path, plugin: str, *options: str, started: int = 2, wait: float = 10.0,
                 mentioning: str | None = None, ready_within: float = 120.0,
                 env: dict[str, str] | None = None) -> Aftermath:
    """Start the driver (with ``env`` added to its environment), SIGKILL it once
    ``started`` nodes started, wait ``wait`` s. ``mentioning``: also count processes
    whose command line contains it."""
    base.mkdir(parents=True, exist_ok=True)
    driver = subprocess.Popen([sys.executable, "-m", "tests.killed_driver", str(base), plugin, *options], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + ready_within
    while len(list(base.glob("started-*"))) < started:
        assert driver.poll() is None, f"the driver ended with status {driver.returncode} before the kill"
        assert time.monotonic() < deadline, "the nodes did not start"
        time.sleep(0.1)
    children = psutil.Process(driver.pid).children(recursive=True)
    before = {p.name for p in base.iterdir()}
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    time.sleep(wait)
    after = {p.name for p in base.iterdir()} - before
    left = alive_processes(children, mentioning)
    for line in left:
        psutil.Process(int(line.split()[0])).kill()
    return Aftermath(left, {n for n in after if n.startswith("started-")}, {n for n in after if n.startswith("done-")})
