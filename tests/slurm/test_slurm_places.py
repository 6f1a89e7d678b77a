"""Where a node runs on the slurm backend, in both modes: the Slurm node and job that
run it, as squeue reports them when the job starts, and as the job sees itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..places import Places, places_workflow

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_no_leftovers")]


@pytest.mark.parametrize("graph", [False, True], ids=["job-level", "graph"])
def test_where_names_the_slurm_node_and_job(tmp_path: Path, slurm_run_options: dict[str, Any], graph: bool) -> None:
    """Each node runs 3 s; its start is heard at least 1 s before its end (squeue is
    asked every 0.5-2 s here and the driver delivers a start within 1 s; the rest is
    margin for a loaded machine), so the display showed it running, with its place."""
    with Places() as places:
        res = places_workflow(tmp_path, pause=3.0).run(plugin="slurm", graph=graph, progress=False,
                                                       **slurm_run_options)
    for node in ("w0", "w1"):
        seen = res[node].out
        assert seen["slurm_node"] and seen["job"]
        assert places.where[node] == f"{seen['slurm_node']} (Slurm job {seen['job']})"
        assert places.heard[node] > 1.0, f"{node}'s start was heard only with its end"
