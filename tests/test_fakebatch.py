"""The kit's fake batch scheduler, and the ``fakebatch`` backend on it passing the
conformance battery (cluster cases included: lost jobs, timeouts, Ctrl-C), polling
with one batched status query per interval."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import flowmill
from flowmill import RunResult
from flowmill.testing import ConformanceSuite, FakeBatch, FakeBatchPlugin
from flowmill.testing import _workflows as battery


@pytest.fixture
def fakebatch():
    plugin = FakeBatchPlugin()
    flowmill.register(plugin)
    yield plugin
    flowmill.unregister(plugin)


@pytest.fixture
def batch():
    scheduler = FakeBatch(slots=2)
    yield scheduler
    scheduler.shutdown()


def settled(batch: FakeBatch, ids: list[str], within: float = 20.0) -> dict[str, str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = batch.states()
        if all(states[i].startswith("exited") for i in ids):
            return dict(states)
        time.sleep(0.05)
    raise AssertionError(f"jobs did not end: {batch.states()}")


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_holds_array_ids_and_exit_status(batch, tmp_path):
    order = tmp_path / "order"
    first = batch.submit(py(f"import time; time.sleep(0.3); open({str(order)!r}, 'a').write('first ')"))
    array = batch.submit_array([py(f"open({str(order)!r}, 'a').write('then ')"), py("raise SystemExit(3)")],
                               holds=[first])
    assert array == [f"{int(first) + 1}.1", f"{int(first) + 1}.2"]
    states = settled(batch, [first, *array])
    assert order.read_text() == "first then "
    assert [states[first], *(states[i] for i in array)] == ["exited 0", "exited 0", "exited 3"]


def test_faults_lost_killed_failed(batch, tmp_path):
    batch.fault_next("lost", "killed", "failed")
    lost, killed, failed = (batch.submit(py("import time; time.sleep(0.2)")) for _ in range(3))
    states = settled(batch, [lost, killed, failed])
    assert states[killed] == "exited -9" and states[failed] == "exited 1"
    assert batch.status([lost, killed]) == {killed: "exited -9"}


def test_queue_delay_and_cancel(tmp_path):
    batch = FakeBatch(queue_delay=0.5)
    try:
        job = batch.submit(py("import time; time.sleep(30)"))
        assert batch.status([job]) == {job: "queued"}
        while batch.status([job])[job] == "queued":
            time.sleep(0.05)
        batch.cancel([job])
        assert batch.status([job]) == {job: "exited -9"}
    finally:
        batch.shutdown()


def test_the_backend_polls_all_jobs_in_one_query_per_interval(tmp_path, fakebatch):
    """The bound is counted in the run's own intervals, not in jobs: on a loaded machine
    the run lasts longer and rightly polls more, while a query per job in flight would
    still be several times the number of intervals."""
    began = time.monotonic()
    res = battery.fan_out(tmp_path, 30).run(plugin="fakebatch", slots=8, poll_interval=0.2)
    intervals = (time.monotonic() - began) / 0.2
    assert len(res.executed) == 31
    scheduler = fakebatch.last.batch
    assert len(scheduler.submitted) == 31
    assert scheduler.queries <= 1.5 * intervals + 2, \
        f"{scheduler.queries} status queries in {intervals:.0f} poll intervals: not one query per interval"


class TestFakeBatchConforms(ConformanceSuite):
    backend = "fakebatch"
    fan_out_width = 40
    chain_length = 20

    @pytest.fixture
    def run_options(self, fakebatch):
        self.plugin = fakebatch
        return {"slots": 4}

    def node_plugin_args(self):
        return {"submit_args": "--mem 4G"}

    def check_node_plugin_args(self, outcome: RunResult | BaseException, tmp_path: Path) -> None:
        assert isinstance(outcome, RunResult)
        seen = self.plugin.last.submit_args
        assert seen["left"] == "--mem 4G" and seen["right"] == ""


def test_the_status_poller_backs_off_while_nothing_changes():
    poller = flowmill.backend.StatusPoller(lambda ids: {i: "running" for i in ids}, lambda states: (),
                                           interval=0.1, most=0.4)
    poller.watch(["1", "2"])
    time.sleep(1.6)
    poller.close()
    assert 3 <= poller.queries <= 7, poller.queries  # 0.1 s apart throughout would be 16


def test_the_status_poller_tells_a_state_for_exactly_the_ids_it_asked_about():
    """None for an id the scheduler forgot; a job submitted after the query began is not
    in that answer (it used to be taken for lost by fakebatch, which looked at all its jobs)."""
    seen = []
    poller = flowmill.backend.StatusPoller(lambda ids: {"1": "running", "3": "running"},
                                           lambda states: seen.append(dict(states)) or list(states), interval=0.05)
    poller.watch(["1", "2"])
    time.sleep(0.3)
    poller.close()
    assert seen[0] == {"1": "running", "2": None}
