"""The qmaster stops mid-run (a real cluster's scheduler restarts for upgrades and
failovers) while sge_execd goes on running the jobs: the run warns, waits, and
completes without running anything twice; an outage longer than
``scheduler_patience`` fails the run saying so.

Each test restarts sge_execd after itself: after a qmaster restart it may stop
reporting job ends, which would slow every later test of the suite.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import flowmill
from flowmill import Node, Workflow
from tests.fixtures.sge import sge_command
from tests.sge.test_sge_failures import wait_for_record

pytestmark = [pytest.mark.sge, pytest.mark.usefixtures("sge_no_leftovers")]

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "sge"

OUTAGE = 15.0
"""Seconds from the start of the qmaster's stop to its restart (a clean stop alone
takes 10-15 s)."""

AFTER_OUTAGE = 90.0
"""The issue asks for one minute after the qmaster's return; measured here 8-52 s, once
66 s in job-level mode on the shared, loaded 2-core machine, hence 90 s. Where the
time goes after the return: up to 5 s until the next ping, the queue in state "u" (no
job starts) until the execd's next load report (up to load_report_time: 10 s in the
test cell, 40 s by default, which made graph mode take 79-82 s in a loaded CI run, with
a drmaa_exit that hung 30 s after the restart, now cut short), the dependant's own
job, and 10-15 s to settle its end from the store when the execd does not report it.
The code before the outage handling never ended in graph mode (> 200 s, jobs stuck);
in job-level mode it ended, silently (the warnings' assertions fail it)."""


def counted_nap(seconds: float, marker: str, up0: int = 0, up1: int = 0, up2: int = 0) -> int:
    """Sleeps; appends a line to ``marker`` per run, so a second run shows."""
    with open(marker, "a") as handle:
        handle.write("run\n")
    time.sleep(seconds)
    return 1 + up0 + up1 + up2


def qmaster(action: str) -> None:
    done = sge_command("bash", str(SCRIPTS / "qmaster.sh"), action)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def restarts_execd() -> Iterator[None]:
    yield
    qmaster("start")
    done = sge_command("bash", str(SCRIPTS / "start.sh"), "--restart-execd")
    assert done.returncode == 0, done.stderr


def outage_workflow(tmp_path: Path) -> Workflow:
    """Three naps that end while the qmaster is down, and a node that needs them."""
    wf = Workflow("outage", base_dir=tmp_path)
    naps = []
    for i in range(3):
        nap = Node(counted_nap, name=f"nap{i}")
        nap.inputs.seconds = 4
        nap.inputs.marker = str(tmp_path / f"nap{i}.runs")
        naps.append(nap)
    last = Node(counted_nap, name="last")
    last.inputs.seconds = 1
    last.inputs.marker = str(tmp_path / "last.runs")
    wf.add_nodes([*naps, last])
    for i, nap in enumerate(naps):
        wf.connect(nap, "out", last, f"up{i}")
    return wf


def interrupt_once_running(tmp_path: Path, node: str, stopped: dict[str, float]) -> threading.Thread:
    """Stops the qmaster once the node's job runs its function, starts it again
    right after the stop completed (a clean stop takes 10-15 s: the outage)."""

    def outage() -> None:
        wait_for_record(tmp_path / "outage" / node)
        deadline = time.monotonic() + 60
        while not (tmp_path / f"{node}.runs").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        stopped["stop"] = time.monotonic()
        qmaster("stop")
        time.sleep(max(0.0, stopped["stop"] + OUTAGE - time.monotonic()))
        qmaster("start")
        stopped["back"] = time.monotonic()

    thread = threading.Thread(target=outage, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("graph", [False, True])
def test_a_qmaster_restart_mid_run_is_ridden_out(tmp_path: Path, sge_run_options: dict[str, Any], graph: bool,
                                                 restarts_execd: None, caplog: pytest.LogCaptureFixture) -> None:
    wf = outage_workflow(tmp_path)
    times: dict[str, float] = {}
    outage = interrupt_once_running(tmp_path, "nap0", times)
    with caplog.at_level(logging.WARNING, logger="flowmill"):
        res = wf.run(plugin="sge", graph=graph, **sge_run_options)
    ended = time.monotonic()
    outage.join(timeout=90)
    assert "back" in times, "the qmaster did not come back"
    assert res["last"].out == 4
    assert sorted(res.executed) == ["last", "nap0", "nap1", "nap2"]
    for name in ("nap0", "nap1", "nap2", "last"):
        assert (tmp_path / f"{name}.runs").read_text() == "run\n", f"{name} ran more than once"
    warnings = [record.getMessage() for record in caplog.records]
    assert any("has not answered for" in line and "go on under sge_execd" in line for line in warnings), warnings
    assert any("answers again" in line for line in warnings), warnings
    took = ended - times["back"]
    for record in caplog.records:
        print(f"{record.created - time.time() + time.monotonic() - times['back']:+.1f} {record.getMessage()}")
    print(f"outage {times['back'] - times['stop']:.1f} s, run ended {took:.1f} s after the qmaster was back")
    assert took < AFTER_OUTAGE, f"the run ended {took:.0f} s after the qmaster was back (outage " \
                                f"{times['back'] - times['stop']:.0f} s)"


def test_an_outage_beyond_scheduler_patience_fails_the_run(tmp_path: Path, sge_run_options: dict[str, Any],
                                                           restarts_execd: None) -> None:
    """The run fails naming the option once the qmaster has been silent for
    ``scheduler_patience`` seconds, noticed within a ping interval or two (5 s each);
    the bound adds a margin for a loaded machine. Was: silent, then, once the qmaster
    was back, misreported as Grid Engine refusing the node's qsub_args, or a wait for
    as long as the outage lasted. The qmaster comes back after 60 s whatever happens,
    so that the old code fails the bound instead of waiting forever."""
    wf = Workflow("outage", base_dir=tmp_path)
    nap = Node(counted_nap, name="nap0")
    nap.inputs.seconds = 40
    nap.inputs.marker = str(tmp_path / "nap0.runs")
    wf.add_nodes([nap])
    times: dict[str, float] = {}
    run_over = threading.Event()

    def outage() -> None:
        times["job"] = float(wait_for_record(tmp_path / "outage" / "nap0"))
        times["stop"] = time.monotonic()
        qmaster("stop")
        run_over.wait(60)
        qmaster("start")

    stopper = threading.Thread(target=outage, daemon=True)
    stopper.start()
    try:
        with pytest.raises(flowmill.PluginError) as info:
            wf.run(plugin="sge", scheduler_patience=10, **sge_run_options)
        failed = time.monotonic()
    finally:
        run_over.set()
        stopper.join(timeout=90)
        sge_command("qdel", "-f", str(int(times["job"])))  # its end may be lost with the restart
    message = str(info.value)
    print(f"failed {failed - times['stop']:.1f} s after the stop began: {message}")
    assert "has not answered" in message and "scheduler_patience=10s" in message, message
    assert "refuse" not in message, message
    assert failed - times["stop"] < 10 + 2 * 5 + 20, f"failed {failed - times['stop']:.0f} s after the stop began"
