"""Where a running node runs, as the backends on this host report it to observers
(``flowmill_node_started``'s ``where``) and the live display shows it: the process
that ran the node, seen from inside the node. The cluster backends' own tests are in
tests/ipython, tests/slurm and tests/sge."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

import flowmill

from .places import Places, places_workflow, process


@pytest.mark.parametrize("options, runs_in_driver", [
    ({"plugin": "linear"}, True),
    ({"plugin": "multiproc", "n_procs": 2}, False),
    ({"plugin": "ruffus", "n_procs": 2, "mode": "multiprocess"}, False),
    ({"plugin": "ruffus", "n_procs": 2, "mode": "multithread"}, True),
], ids=["linear", "multiproc", "ruffus-multiprocess", "ruffus-multithread"])
def test_where_names_the_process_that_ran_the_node(tmp_path, options: dict[str, Any], runs_in_driver: bool):
    with Places() as places:
        res = places_workflow(tmp_path).run(progress=False, **options)
    for node in ("w0", "w1"):
        seen = res[node].out
        assert places.where[node] == process(seen)
        assert (seen["pid"] == os.getpid()) == runs_in_driver, seen


def test_a_node_run_in_the_driver_says_so(tmp_path):
    """run_without_submitting: the node runs in the driver whatever the backend."""
    wf = places_workflow(tmp_path, nodes=1)
    wf.get_node("w0").run_without_submitting = True
    with Places() as places:
        wf.run(plugin="multiproc", n_procs=2, progress=False)
    assert places.where["w0"] == f"{socket.gethostname()} pid {os.getpid()}"


class OldObserver:
    """Written before ``where`` existed: names only the arguments it had then."""

    def __init__(self) -> None:
        self.started: list[str] = []

    @flowmill.hookimpl
    def flowmill_node_started(self, run: Any, job: Any) -> None:
        self.started.append(job.id)


def test_observers_with_and_without_where_both_hear_starts(tmp_path):
    old = OldObserver()
    flowmill.register(old)
    try:
        with Places() as places:
            places_workflow(tmp_path).run(plugin="multiproc", n_procs=2, progress=False)
    finally:
        flowmill.unregister(old)
    assert sorted(old.started) == ["w0", "w1"] == sorted(places.where)


def test_process_place_names_a_process_on_this_host_or_another():
    from flowmill.backend import process_place

    assert process_place() == f"{socket.gethostname()} pid {os.getpid()}"
    assert process_place(42, "node7") == "node7 pid 42"
