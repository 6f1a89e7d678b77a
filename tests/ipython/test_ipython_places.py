"""Where a node runs on the ipython backend: the engine that took it, its host and
its pid, as observers hear it when the node starts (the task's first message) and as
the engines themselves answer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ipyparallel
import pytest

from ..places import Places, places_workflow, process

pytestmark = pytest.mark.ipython


def _engines_by_pid(url_file: str) -> dict[int, int]:
    client = ipyparallel.Client(url_file)
    try:
        return {pid: engine for engine, pid in zip(client.ids, client[:].apply_sync(os.getpid))}
    finally:
        client.close()


@pytest.mark.parametrize("pause", [3.0, 0.0], ids=["running", "quick"])
def test_where_names_the_engine_host_and_pid(tmp_path: Path, ipython_run_options: dict[str, Any],
                                            pause: float) -> None:
    """A node that runs a while is heard from its start message, while it runs: its
    start is heard at least 1 s of its 3 s before its end (the driver delivers a start
    within START_NOTICE, 1 s; the last second is margin for a loaded machine). A quick
    one may end before its engine is known to the client, and is then reported with
    its end."""
    with Places() as places:
        res = places_workflow(tmp_path, pause=pause, nodes=4).run(plugin="ipython", progress=False,
                                                                  **ipython_run_options)
    engines = _engines_by_pid(ipython_run_options["url_file"])
    for node in ("w0", "w1", "w2", "w3"):
        seen = res[node].out
        assert places.where[node] == f"IPython engine {engines[seen['pid']]} on {process(seen)}"
        if pause:
            assert places.heard[node] > 1.0, f"{node}'s start was heard only with its end"
