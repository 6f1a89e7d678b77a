"""What the core says about executors that break the contract, one mistake each
(tests/misbehaving.py): a PluginError or a crash file naming the backend and the fix,
never a silent pass, a raw exception or a hang."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import flowmill
from flowmill import PluginError, WorkflowError
from flowmill.execution import runner as policy
from flowmill.store import results as store
from flowmill.testing import KitDeadline
from flowmill.testing import _workflows as battery
from flowmill.testing._deadline import Deadline

from . import misbehaving as mb


@pytest.fixture
def backend():
    """Register the ``misbehaving`` backend built from an executor class (replacing
    the one registered before)."""
    plugins = []

    def use(executor: type, **capabilities) -> str:
        while plugins:
            flowmill.unregister(plugins.pop())
        plugin = mb.MisbehavingPlugin(executor, flowmill.backend.Capabilities(**capabilities)
                                      if capabilities else None)
        flowmill.register(plugin)
        plugins.append(plugin)
        return "misbehaving"

    yield use
    for plugin in plugins:
        flowmill.unregister(plugin)


def test_the_correct_harness_executors_pass(tmp_path, backend):
    assert battery.diamond(tmp_path).run(plugin=backend(mb.ThreadJobs))["bottom"].out == 34
    assert battery.diamond(tmp_path / "g").run(plugin=backend(mb.ThreadGraph))["bottom"].out == 34


@pytest.mark.parametrize("executor", [mb.ReportsTwice, mb.GraphReportsTwice], ids=["job-level", "graph-level"])
def test_a_completion_reported_twice_is_a_plugin_error_naming_the_backend(tmp_path, backend, executor):
    with pytest.raises(PluginError, match=r"backend 'misbehaving' reported job '\w+' again \(done\) after "
                                          r"its report had settled it as (ran|done).*exactly once"):
        battery.diamond(tmp_path).run(plugin=backend(executor))


def test_lost_after_done_is_a_plugin_error(tmp_path, backend):
    with pytest.raises(PluginError, match=r"reported job '\w+' again \(lost\) after its report had settled"):
        battery.diamond(tmp_path).run(plugin=backend(mb.LostAfterDone))


def test_a_completion_for_an_unknown_job_is_a_plugin_error(tmp_path, backend):
    with pytest.raises(PluginError, match=r"backend 'misbehaving' reported a completion for job 'top-typo', "
                                          "which it was never given"):
        battery.diamond(tmp_path).run(plugin=backend(mb.ReportsUnknownJob))


def test_zero_slots_is_refused_before_anything_runs(tmp_path, backend):
    with pytest.raises(PluginError, match=r"backend 'misbehaving': its executor's slots is 0; it must be a "
                                          "positive int"):
        battery.diamond(tmp_path).run(plugin=backend(mb.ZeroSlots))
    assert not (tmp_path / "diamond" / "top" / store.RESULT).exists()


def test_done_without_running_blames_the_backend_before_the_file_system(tmp_path, backend):
    with pytest.raises(WorkflowError) as info:
        battery.diamond(tmp_path).run(plugin=backend(mb.DoneWithoutRunning), result_grace=0.2)
    error = info.value.failed[0].error
    assert error.startswith("backend 'misbehaving' reported the job done, but no result and no crash file was "
                            "written to ")
    assert error.index("did the backend run the job") < error.index("shared file system")


def test_submit_raising_loses_the_job_which_is_retried(tmp_path, backend, caplog):
    res = battery.diamond(tmp_path).run(plugin=backend(mb.SubmitRaises), retries=1)
    assert res["bottom"].out == 34
    assert "backend 'misbehaving' failed to submit it: RuntimeError: qsub: connection refused" in caplog.text


def test_submit_raising_beyond_retries_leaves_a_crash_file_naming_the_backend(tmp_path, backend):
    class AlwaysRaises(mb.SubmitRaises):
        failures = 10

    with pytest.raises(WorkflowError) as info:
        battery.diamond(tmp_path).run(plugin=backend(AlwaysRaises), retries=1)
    failed = info.value.failed[0]
    assert failed.name == "top"
    crash = store.read_crash(failed.crash_file)
    assert crash["error_type"] == "JobLost"
    assert crash["error"] == ("lost 2 time(s), retries=1: backend 'misbehaving' failed to submit it: "
                              "RuntimeError: qsub: connection refused")
    assert "qsub: connection refused" in crash["details"]["traceback"]
    assert sorted(info.value.result.skipped) == ["bottom", "left", "right"]


def test_run_graph_raising_fails_the_unreported_jobs_naming_the_backend(tmp_path, backend):
    with pytest.raises(WorkflowError) as info:
        battery.diamond(tmp_path).run(plugin=backend(mb.RunGraphRaises))
    crash = store.read_crash(info.value.failed[0].crash_file)
    assert crash["error"] == "backend 'misbehaving': run_graph raised RuntimeError: scheduler connection lost"
    assert "scheduler connection lost" in crash["details"]["traceback"]


def test_run_graph_returning_without_reporting_fails_the_jobs_naming_the_backend(tmp_path, backend):
    with pytest.raises(WorkflowError) as info:
        battery.diamond(tmp_path).run(plugin=backend(mb.RunGraphSilent))
    assert info.value.result.failed == ["top"]
    assert sorted(info.value.result.skipped) == ["bottom", "left", "right"]
    assert info.value.failed[0].error == "backend 'misbehaving' returned from run_graph without reporting this job"


def test_a_graph_executor_running_a_blocked_job_is_a_plugin_error(tmp_path, backend):
    with pytest.raises(PluginError, match=r"backend 'misbehaving' started job 'after_bad', which "
                                          r"GraphEvents.blocked told it not to run.*events.blocked\(job_id\) "
                                          "returns False"):
        battery.failing(tmp_path).run(plugin=backend(mb.IgnoresBlocked))
    assert not (tmp_path / "failing" / "after_bad" / store.RESULT).exists()


def test_a_silent_wait_is_logged_with_what_is_in_flight(tmp_path, backend, caplog, monkeypatch):
    monkeypatch.setattr(policy, "HEARTBEAT_SECONDS", 0.3)
    caplog.set_level(logging.WARNING, "flowmill")
    with pytest.raises(WorkflowError):
        battery.diamond(tmp_path).run(plugin=backend(mb.WaitNeverReports, timeouts="cancel", reports_starts=True),
                                      timeout=1.5)
    assert re.search(r"no completion from backend 'misbehaving' for \d s; in flight: top \(started\)\n",
                     caplog.text)


@pytest.mark.parametrize("executor", [mb.WaitBlocks, mb.RunGraphBlocks], ids=["wait", "run_graph"])
def test_the_kit_deadline_ends_a_run_that_blocks_naming_what_is_in_flight(tmp_path, backend, executor):
    with pytest.raises(KitDeadline, match=r"backend 'misbehaving' did not finish this case within the kit's "
                                          r"deadline of 1 s .*; in flight: backend 'misbehaving': top"):
        with Deadline("misbehaving", 1.0, grace=1.0):
            battery.diamond(tmp_path).run(plugin=backend(executor))


def test_a_silent_graph_executor_is_logged_with_what_is_in_flight(tmp_path, backend, caplog, monkeypatch):
    monkeypatch.setattr(policy, "HEARTBEAT_SECONDS", 0.3)
    caplog.set_level(logging.WARNING, "flowmill")
    with pytest.raises(KitDeadline):
        with Deadline("misbehaving", 1.5, grace=1.0):
            battery.diamond(tmp_path).run(plugin=backend(mb.RunGraphBlocks))
    assert re.search(r"no completion from backend 'misbehaving' for \d s; in flight: top \(not started\), "
                     r"left \(not started\), right \(not started\), bottom \(not started\)\n", caplog.text)


KIT_CASE = """
import flowmill
from flowmill.testing import ConformanceSuite
from tests import misbehaving as mb

flowmill.register(mb.MisbehavingPlugin(mb.{executor}))


class TestKit(ConformanceSuite):
    backend = "misbehaving"
    deadline_seconds = 2
"""


@pytest.mark.parametrize("executor", ["WaitNeverReports", "WaitBlocks", "RunGraphBlocks"])
def test_the_kit_fails_a_hanging_backend_within_its_deadline(tmp_path, executor):
    """The battery itself, in a pytest of its own (as a backend author runs it)."""
    (tmp_path / "test_kit.py").write_text(KIT_CASE.format(executor=executor))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "test_diamond",
                           "test_kit.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout
    assert "KitDeadline: backend 'misbehaving' did not finish this case within the kit's deadline of 2 s" \
        in proc.stdout
    assert time.monotonic() - started < 60


class SingularHook:
    @flowmill.hookimpl
    def flowmill_backend(self) -> list:
        return []


def test_a_hook_named_flowmill_backend_is_refused_with_the_right_name():
    """The registration mistakes (misspelled hooks, a misnamed argument, another
    contract version, a greedy make_executor) are covered in test_plugin_system."""
    with pytest.raises(PluginError, match=r"implements 'flowmill_backend', which is not a flowmill hook; did you "
                                          r"mean 'flowmill_backends'\?"):
        flowmill.register(SingularHook(), name="singular")
