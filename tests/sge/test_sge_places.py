"""Where a node runs on the sge backend, in both modes. Grid Engine reports no starts:
the backend's sweep finds the holder record the job's worker writes when the node
starts, and names the host, the worker's pid and the Grid Engine job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..places import Places, places_workflow, process

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]


@pytest.mark.parametrize("graph", [False, True], ids=["job-level", "graph"])
def test_where_names_the_host_pid_and_sge_job(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool) -> None:
    """Each node runs 12 s: the sweep looks every 5 s, so it hears the start at least
    5 s before the end (asserted: 2 s, the rest is margin for a loaded cell)."""
    with Places() as places:
        res = places_workflow(tmp_path, pause=12.0).run(plugin="sge", graph=graph, progress=False,
                                                        **sge_run_options)
    for node in ("w0", "w1"):
        seen = res[node].out
        assert places.where[node] == f"{process(seen)} (SGE job {seen['job']})"
        assert places.heard[node] > 2.0, f"{node}'s start was heard only with its end"
