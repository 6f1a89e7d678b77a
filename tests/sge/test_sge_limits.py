"""Grid Engine's own limits, reached for real: the crash file names the limit (from the
job's accounting against its native specification), not a bare SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sge.test_sge_failures import crash_of_failing

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]

HOLD = ("import sys, time; block = bytearray(int(sys.argv[1]) * 2**20); "
        "[block.__setitem__(i, 1) for i in range(0, len(block), 4096)]; time.sleep(60)")
"""A child that allocates and touches N MiB, then holds them."""


def children_over_the_limit(mib: int, count: int) -> int:
    """Each child stays under the job's address-space limit; together they exceed
    h_vmem, which Grid Engine enforces on the sum of the job's processes."""
    children = [subprocess.Popen([sys.executable, "-c", HOLD, str(mib)]) for _ in range(count)]
    for child in children:
        child.wait()
    return count


def allocate(mib: int) -> int:
    return len(bytearray(mib * 2**20))


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.mark.parametrize("graph", [False, True])
def test_child_processes_over_h_vmem_name_the_limit(tmp_path: Path, sge_run_options: dict[str, Any],
                                                    graph: bool) -> None:
    crash = crash_of_failing(tmp_path, children_over_the_limit,
                             {**sge_run_options, "graph": graph, "qsub_args": "-l h_vmem=600M"}, mib=350, count=2)
    assert crash["error_type"] == "JobLost"
    assert "killed by SGE: memory limit h_vmem=600M reached (maxvmem " in crash["error"], crash["error"]


def test_a_memory_error_under_h_vmem_names_the_limit(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    """h_vmem is also the job's ulimit -v: Python's allocation fails before any kill."""
    crash = crash_of_failing(tmp_path, allocate, {**sge_run_options, "qsub_args": "-l h_vmem=600M"}, mib=1024)
    assert crash["error_type"] == "MemoryError"
    assert "h_vmem=600M" in crash["details"]["memory_limit"]


def test_the_nodes_own_h_rt_is_named(tmp_path: Path, sge_run_options: dict[str, Any]) -> None:
    """A kill at the node's own h_rt (not the run's timeout, which is a Timeout) is a
    lost job whose reason names the limit and where it came from."""
    crash = crash_of_failing(tmp_path, nap, {**sge_run_options, "qsub_args": "-l h_rt=3"}, seconds=60)
    assert crash["error_type"] == "JobLost"
    assert "killed by SGE at its h_rt limit of 3 s (qsub_args -l h_rt, or node.resources['walltime'])" \
        in crash["error"], crash["error"]
