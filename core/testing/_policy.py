"""The conformance cases of the scheduling policy: the core decides retries, timeouts,
``max_jobs``, the stop at the first crash, skips and Ctrl-C for every backend, and
these cases check that each backend obeys, from the nodes' own account.

What a backend declares it cannot do (its :class:`~flowmill.backend.Capabilities`
for the options of the run) is not skipped silently: a refused option must be refused
up front with a PluginError naming it, and a case that cannot apply says why:

* a job can be *lost* only where it runs outside the driver process; a backend whose
  jobs need no pickling (``needs_pickle=False``: linear, Ruffus' threads) runs them
  in the driver, where a lost job is the driver's own death, so the two loss cases
  are skipped for it, saying so.
* a backend that cannot stop a running job (``timeouts="none"``) lets the jobs running
  at a Ctrl-C finish; the case then checks that no other job starts.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import psutil
import pytest

from .._errors import PluginError, WorkflowError
from ..contract.manager import find_backend
from ..contract.options import merge_policy, option_fields, option_hints
from ..contract.types import Capabilities
from ..execution.result import RunResult
from ..execution.runner import STOP
from ..execution.session import split_options
from ..store import results as store
from ..workflow.workflow import Workflow
from . import _policy_workflows as policy
from ._events import EventLog
from ._signals import restore_sigint

GONE_WITHIN = 15.0
"""Seconds a stopped job's processes get to disappear (a loaded 2-core machine, an
engine answering a signal, a scheduler deleting a job)."""


def alive(pids: Path) -> list[int]:
    """Recorded pids still running (a zombie has stopped running)."""
    running = []
    for entry in pids.iterdir():
        try:
            if psutil.Process(int(entry.name)).status() != psutil.STATUS_ZOMBIE:
                running.append(int(entry.name))
        except psutil.NoSuchProcess:
            continue
    return running


def still_alive_after(pids: Path, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (running := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return running


class PolicyCases:
    """Mixed into :class:`~flowmill.testing.ConformanceSuite`; see the module docstring.
    A backend's test class may tune ``timeout_seconds`` and ``settle_seconds`` (raise
    them for a scheduler whose hops take seconds) and must override
    :meth:`node_plugin_args` if the backend has options."""

    backend: str
    run: Callable[[Workflow, dict[str, Any]], RunResult]
    """Both provided by ConformanceSuite."""
    timeout_seconds: float = 2.0
    """The run's ``timeout`` in the timeout case (its node would take 60 s)."""
    settle_seconds: float = 2.0
    """How long after a node's crash file appears its independent successors become
    ready, so the driver certainly learned of the crash before."""

    @pytest.fixture
    def lossy_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Options for the cases that kill the process running a job; a backend whose
        workers do not come back (an IPython engine) points them at a cluster of their own."""
        return options

    def capabilities(self, options: dict[str, Any]) -> Capabilities:
        """The backend's capabilities for these run options (its mode)."""
        backend, _ = find_backend(self.backend)
        _, backend_options = split_options(backend, options)
        return backend.capabilities_for(backend_options)

    def refused(self, wf: Workflow, options: dict[str, Any], option: str) -> None:
        with pytest.raises(PluginError, match=rf"backend {self.backend!r} does not support the {option} option"):
            self.run(wf, options)

    def _skip_unless_lossable(self, options: dict[str, Any]) -> None:
        if not self.capabilities(options).needs_pickle:
            pytest.skip(f"backend {self.backend!r} with options {options} runs jobs in the driver process "
                        "(needs_pickle=False): a lost job would be the driver's own death")

    # -- lost jobs ------------------------------------------------------------------

    def test_lost_once_is_retried(self, tmp_path: Path, lossy_options: dict[str, Any]) -> None:
        """The node kills its own process on its first attempt: the core resubmits it."""
        self._skip_unless_lossable(lossy_options)
        marks = tmp_path / "marks"
        res = self.run(policy.perishing(tmp_path, marks, times=1), {**lossy_options, "retries": 1})
        assert res["perish"].out == 8
        assert res.executed == ["perish"]
        assert len(list(marks.iterdir())) == 2

    def test_lost_beyond_retries_fails_as_job_lost(self, tmp_path: Path, lossy_options: dict[str, Any]) -> None:
        self._skip_unless_lossable(lossy_options)
        marks = tmp_path / "marks"
        with pytest.raises(WorkflowError) as info:
            self.run(policy.perishing(tmp_path, marks, times=99), {**lossy_options, "retries": 1})
        assert info.value.result.failed == ["perish"]
        assert len(list(marks.iterdir())) == 2
        crash = store.read_crash(info.value.failed[0].crash_file)
        assert crash["error_type"] == "JobLost"
        assert re.fullmatch(r"lost 2 time\(s\), retries=1: .+", crash["error"], re.DOTALL), crash["error"]

    # -- timeouts -------------------------------------------------------------------

    def test_timeout_fails_the_job_and_stops_it(self, tmp_path: Path, options: dict[str, Any]) -> None:
        pids = tmp_path / "pids"
        wf = policy.slow(tmp_path, pids, seconds=60)
        timed = {**options, "timeout": float(self.timeout_seconds)}
        if self.capabilities(options).timeouts == "none":
            self.refused(wf, timed, "timeout")
            assert not pids.exists() or not list(pids.iterdir())
            return
        began = time.monotonic()
        with pytest.raises(WorkflowError) as info:
            self.run(wf, timed)
        assert time.monotonic() - began < 50, "the job was not stopped at its timeout"
        result = info.value.result
        assert result.failed == ["slow"] and result.skipped == ["after_slow"] and result["quick"].out == 3
        crash = store.read_crash(info.value.failed[0].crash_file)
        assert crash["error_type"] == "Timeout"
        assert crash["error"] == f"timed out after {float(self.timeout_seconds)}s (run option timeout)"
        assert list(pids.iterdir()), "the slow node never started its child"
        assert still_alive_after(pids, GONE_WITHIN) == [], "the timed-out job's process tree is still running"

    # -- max_jobs -------------------------------------------------------------------

    def test_max_jobs_one_never_overlaps(self, tmp_path: Path, options: dict[str, Any]) -> None:
        """Four siblings ready at once, each holding one lock file for 0.3 s: a node
        finding the lock taken records the overlap."""
        shared = tmp_path / "shared"
        wf = policy.exclusive_fan(tmp_path, shared, width=4, seconds=0.3)
        if not self.capabilities(options).max_jobs:
            self.refused(wf, {**options, "max_jobs": 1}, "max_jobs")
            return
        res = self.run(wf, {**options, "max_jobs": 1})
        assert sorted(res.executed) == ["excl0", "excl1", "excl2", "excl3", "root"]
        log = (shared / "log").read_text()
        assert sorted(p.name for p in shared.iterdir() if p.name.startswith("overlap")) == [], log
        assert len(log.splitlines()) == 4

    # -- stop_on_first_crash --------------------------------------------------------

    def test_stop_on_first_crash_starts_nothing_new(self, tmp_path: Path, options: dict[str, Any],
                                                    events: EventLog) -> None:
        """The late nodes become ready only after bad's crash is known, and would run
        without the option: none may start, each is skipped because of the stop. gate,
        running at the crash, finishes (or is skipped, on a backend that does not
        report starts and so cannot tell it from a queued job)."""
        started = tmp_path / "started"
        wf = policy.stopping(tmp_path, started, width=3, settle=self.settle_seconds)
        with pytest.raises(WorkflowError) as info:
            self.run(wf, {**options, "stop_on_first_crash": True})
        result = info.value.result
        assert [f.name for f in info.value.failed] == ["bad"]
        assert sorted(p.name for p in started.iterdir()) == [], "a node started after the crash was known"
        late = {f"late{i}" for i in range(3)}
        assert late <= set(result.skipped)
        assert {name: events.because[name] for name in late} == {name: STOP for name in late}
        assert "gate" in result.executed or events.because.get("gate") == STOP

    # -- Ctrl-C ---------------------------------------------------------------------

    def test_ctrl_c_leaves_nothing_queued_or_running(self, tmp_path: Path, options: dict[str, Any]) -> None:
        """SIGINT reaches the driver (as Ctrl-C does) once a node runs. A backend that
        can stop jobs leaves none running; one that cannot lets the running ones
        finish (they end ``RELEASE_AFTER`` seconds after the signal); in both, no other
        job starts. A session started with SIGINT ignored gets Python's handler back
        first (see :mod:`._signals`)."""
        restore_sigint()
        stoppable = self.capabilities(options).timeouts != "none"
        pids, after, sent = tmp_path / "pids", tmp_path / "after", tmp_path / "sigint-sent"
        wf = policy.holding(tmp_path, pids, after, width=4, seconds=60, released=None if stoppable else sent)
        sender = threading.Thread(target=_interrupt_when_present, args=(pids, os.getpid(), sent), daemon=True)
        sender.start()
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            self.run(wf, options)
        sender.join()
        assert time.monotonic() - began < 45, "the run did not stop at Ctrl-C"
        started = {p.name for p in pids.iterdir()}
        assert started, "no node was running at the Ctrl-C"
        assert still_alive_after(pids, GONE_WITHIN) == [], "a job is still running after Ctrl-C"
        time.sleep(self.settle_seconds)
        assert {p.name for p in pids.iterdir()} == started, "a queued job started after Ctrl-C"
        assert list(after.iterdir()) == [], "a job waiting for a running one started after Ctrl-C"

    # -- started events -------------------------------------------------------------

    def test_started_comes_before_finished(self, tmp_path: Path, options: dict[str, Any],
                                           events: EventLog) -> None:
        from ._workflows import diamond

        self.run(diamond(tmp_path), options)
        order = events.events
        nodes = ["top", "left", "right", "bottom"]
        if self.capabilities(options).reports_starts:
            assert events.of("started") == set(nodes)
        for node in events.of("started"):
            assert order.count(("started", node)) == 1
            assert order.index(("started", node)) < order.index(("finished", node))

    # -- per-node plugin_args -------------------------------------------------------

    def node_plugin_args(self) -> dict[str, Any] | None:
        """Backend options that one node of the merge case sets in its ``plugin_args``,
        overriding the run's; None if the backend has no option a node could set
        (the case is then skipped, saying so). Override together with
        :meth:`check_node_plugin_args`."""
        if not self.has_options():
            return None
        run_only = self.run_only_options()
        if len(run_only) == len(option_fields(find_backend(self.backend)[0].options)):
            return {run_only[0]: None}
        raise NotImplementedError(f"backend {self.backend!r} has options: override node_plugin_args and "
                                  "check_node_plugin_args in its ConformanceSuite subclass")

    def has_options(self) -> bool:
        backend, _ = find_backend(self.backend)
        return bool(getattr(backend.options, "__dataclass_fields__", None))

    def run_only_options(self) -> list[str]:
        """The backend's options declared ``metadata={"merge": "run-only"}``."""
        schema = find_backend(self.backend)[0].options
        hints = option_hints(schema, self.backend)
        return [name for name, f in option_fields(schema).items() if merge_policy(f, hints[name]) == "run-only"]

    def check_node_plugin_args(self, outcome: RunResult | BaseException, tmp_path: Path) -> None:
        """Assert that the node's options reached the executor (or were refused up
        front, naming the node, by a backend whose options apply to the whole run:
        what this default checks when every option is run-only)."""
        assert isinstance(outcome, PluginError), outcome
        assert f"node 'left' plugin_args for backend {self.backend!r}: " in str(outcome)
        assert "apply to the whole run and cannot be set per node" in str(outcome)
        assert not (tmp_path / "diamond" / "top" / store.RESULT).exists()

    def test_node_plugin_args_reach_the_executor(self, tmp_path: Path, options: dict[str, Any]) -> None:
        from ._workflows import diamond

        node_args = self.node_plugin_args()
        if node_args is None:
            pytest.skip(f"backend {self.backend!r} has no options a node could set")
        wf = diamond(tmp_path)
        wf.get_node("left").plugin_args = node_args
        outcome: RunResult | BaseException
        try:
            outcome = self.run(wf, options)
        except (PluginError, WorkflowError) as exc:
            outcome = exc
        self.check_node_plugin_args(outcome, tmp_path)

    # -- chained MapNode ------------------------------------------------------------

    def test_failed_element_skips_its_downstream_element(self, tmp_path: Path, options: dict[str, Any]) -> None:
        with pytest.raises(WorkflowError) as info:
            self.run(policy.chained_failure(tmp_path), options)
        result = info.value.result
        assert result.failed == ["steps#1"]
        assert "steps#1" in str(info.value)
        assert "chained#1" in result.skipped
        assert {"steps#0", "steps#2", "chained#0", "chained#2"} <= set(result.executed)
        assert store.read_crash(info.value.failed[0].crash_file)["error_type"] == "ValueError"


def _interrupt_when_present(directory: Path, pid: int, sent: Path, within: float = 60.0) -> None:
    """Send SIGINT to the driver once ``directory`` has an entry (a node runs), then
    create ``sent``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(directory.iterdir()):
            os.kill(pid, signal.SIGINT)
            sent.touch()
            return
        time.sleep(0.02)
