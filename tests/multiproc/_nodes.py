"""Nodes the multiproc tests ship to worker processes by reference."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def span(x: int, log: str, seconds: float) -> int:
    """Sleep ``seconds``, appending this node's start and end times to ``log``."""
    start = time.time()
    time.sleep(seconds)
    with open(log, "a") as handle:
        handle.write(f"{start} {time.time()}\n")
    return x


def most_at_once(log: Path) -> int:
    """The largest number of logged intervals that overlapped."""
    events = []
    for line in log.read_text().splitlines():
        start, end = map(float, line.split())
        events += [(start, 1), (end, -1)]
    running = peak = 0
    for _, step in sorted(events, key=lambda event: (event[0], event[1])):
        running += step
        peak = max(peak, running)
    return peak


def sleeper(x: int, pids: str) -> int:
    """Start ``sleep 60``, record its pid and this worker's, and wait for it."""
    child = subprocess.Popen(["sleep", "60"])
    Path(pids, f"child-{child.pid}").touch()
    Path(pids, f"worker-{os.getpid()}").touch()
    child.wait()
    return x
