"""The conformance battery as a test class a backend's test module subclasses.

Every bundled backend passes it unchanged; a third-party backend gets the same
guarantees by writing::

    from flowmill.testing import ConformanceSuite

    class TestMyBackend(ConformanceSuite):
        backend = "mybackend"

        @pytest.fixture
        def run_options(self, my_cluster):       # whatever the backend needs
            return {"address": my_cluster.address}

Set ``per_mode = True`` to run every case once per mode the backend declares
(``Backend.modes``), the mode's options merged over ``run_options``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from .._errors import WorkflowError
from ..contract.manager import find_backend, register, unregister
from ..execution.result import RunResult
from ..store import results as store
from ..workflow.workflow import Workflow
from . import _workflows as battery
from ._events import BrokenObserver, EventLog
from ._policy import PolicyCases


class ConformanceSuite(PolicyCases):
    """Behaviour every flowmill backend must have. Set ``backend``; override the
    ``run_options`` fixture to pass what the backend needs; shrink ``fan_out_width``
    or ``chain_length`` only if the backend documents why."""

    backend: str = ""
    fan_out_width: int = 200
    chain_length: int = 100
    per_mode: bool = False

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """With ``per_mode``, each case runs once per mode of the backend."""
        if self.per_mode and "mode_options" in metafunc.fixturenames:
            modes = find_backend(self.backend)[0].modes
            metafunc.parametrize("mode_options", list(modes.values()), ids=list(modes))

    @pytest.fixture
    def run_options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def mode_options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def options(self, run_options: dict[str, Any], mode_options: dict[str, Any]) -> dict[str, Any]:
        """What every case runs with: the backend's run options and its mode's."""
        return {**run_options, **mode_options}

    @pytest.fixture
    def events(self) -> Iterator[EventLog]:
        log = EventLog()
        register(log)
        yield log
        unregister(log)

    def run(self, wf: Workflow, options: dict[str, Any]) -> RunResult:
        assert self.backend, "set `backend = NAME` on the ConformanceSuite subclass"
        return wf.run(plugin=self.backend, **options)

    def test_diamond(self, tmp_path: Path, options: dict[str, Any], events: EventLog) -> None:
        res = self.run(battery.diamond(tmp_path), options)
        assert res["top"].out == 11
        assert res["left"].out == 22
        assert res["right"].out == 12
        assert res["bottom"].out == 34
        assert sorted(res.executed) == ["bottom", "left", "right", "top"]
        assert events.of("finished") == {"top", "left", "right", "bottom"}
        assert (tmp_path / "diamond" / "bottom" / store.RESULT).is_file()

    def test_fan_out(self, tmp_path: Path, options: dict[str, Any]) -> None:
        res = self.run(battery.fan_out(tmp_path, self.fan_out_width), options)
        assert len(res.executed) == self.fan_out_width + 1
        assert [res[f"leaf{i}"].out for i in range(self.fan_out_width)] == list(range(self.fan_out_width))

    def test_chain(self, tmp_path: Path, options: dict[str, Any]) -> None:
        res = self.run(battery.chain(tmp_path, self.chain_length), options)
        assert res[f"n{self.chain_length - 1}"].out == self.chain_length
        assert len(res.executed) == self.chain_length

    def test_failure_keeps_independent_branch(self, tmp_path: Path, options: dict[str, Any],
                                              events: EventLog) -> None:
        with pytest.raises(WorkflowError) as info:
            self.run(battery.failing(tmp_path), options)
        error = info.value
        assert [f.name for f in error.failed] == ["bad"]
        assert "conformance failure on purpose" in str(error)
        res = error.result
        assert res.skipped == ["after_bad"]
        assert sorted(res.executed) == ["ok1", "ok2", "start"]
        assert res["ok2"].out == 202
        crash = store.read_crash(error.failed[0].crash_file)
        assert crash["error_type"] == "ValueError"
        assert "conformance failure on purpose (x=2)" in crash["traceback"]
        assert crash["node"] == "bad"
        assert events.of("failed") == {"bad"} and events.of("skipped") == {"after_bad"}
        with pytest.raises(WorkflowError) as again:
            self.run(battery.failing(tmp_path), options)
        assert again.value.result.executed == [] and again.value.result.failed == ["bad"]
        assert sorted(again.value.result.cached) == ["ok1", "ok2", "start"]

    def test_rerun_is_fully_cached(self, tmp_path: Path, options: dict[str, Any], events: EventLog) -> None:
        first = self.run(battery.diamond(tmp_path), options)
        assert len(first.executed) == 4
        events.events.clear()
        second = self.run(battery.diamond(tmp_path), options)
        assert second.executed == []
        assert sorted(second.cached) == ["bottom", "left", "right", "top"]
        assert second["bottom"].out == 34
        assert events.of("started") == set() and events.of("cached") == {"top", "left", "right", "bottom"}

    def test_changed_input_reruns_only_downstream(self, tmp_path: Path, options: dict[str, Any]) -> None:
        first = self.run(battery.pipeline(tmp_path, step=1), options)
        assert first["c"].out == 6
        second = self.run(battery.pipeline(tmp_path, step=5), options)
        assert sorted(second.executed) == ["b", "c"]
        assert sorted(second.cached) == ["a", "d"]
        assert second["c"].out == 14
        third = self.run(battery.pipeline(tmp_path, step=1), options)
        assert sorted(third.executed) == ["b", "c"] and third["c"].out == 6

    def test_large_outputs(self, tmp_path: Path, options: dict[str, Any]) -> None:
        res = self.run(battery.large_outputs(tmp_path, megabytes=5), options)
        expected = battery.blob(5, 3)
        assert res["check"].size == 5 * 1024 * 1024
        assert res["check"].sha == hashlib.sha256(expected).hexdigest()

    def test_nested_workflow(self, tmp_path: Path, options: dict[str, Any]) -> None:
        res = self.run(battery.nested(tmp_path), options)
        assert res["inner.second"].out == 6
        assert res["post"].out == 7
        assert (tmp_path / "nested" / "inner" / "second" / store.RESULT).is_file()

    def test_resume_after_failure(self, tmp_path: Path, options: dict[str, Any]) -> None:
        wf = battery.failing(tmp_path)
        with pytest.raises(WorkflowError):
            self.run(wf, options)
        fixed = battery.failing(tmp_path)
        fixed.get_node("bad").task.func = battery.inc  # type: ignore[union-attr]
        res = self.run(fixed, options)
        assert sorted(res.executed) == ["after_bad", "bad"]
        assert sorted(res.cached) == ["ok1", "ok2", "start"]
        assert res["after_bad"].out == 4
        assert not (tmp_path / "failing" / "bad" / store.CRASH).exists()

    def test_iterables_map_join(self, tmp_path: Path, options: dict[str, Any]) -> None:
        res = self.run(battery.sweep(tmp_path), options)
        assert res["join"].out == 99
        assert [(e.params, e.outputs.out) for e in res["mapped"]] == [
            ({"src.x": 1}, [2, 20]), ({"src.x": 2}, [3, 30]), ({"src.x": 3}, [4, 40])]
        assert res["doubled"].out == [2, 4, 6]
        assert res["chained"].out == [22, 42, 62]
        assert (tmp_path / "sweep" / "mapped" / "src.x-2" / "_map" / "1" / store.RESULT).is_file()
        assert (tmp_path / "sweep" / "doubled" / "_map" / "2" / store.RESULT).is_file()
        again = self.run(battery.sweep(tmp_path), options)
        assert again.executed == [] and again["join"].out == 99

    def test_broken_observer_does_not_break_run(self, tmp_path: Path, options: dict[str, Any]) -> None:
        observer = BrokenObserver()
        register(observer)
        try:
            res = self.run(battery.diamond(tmp_path), options)
        finally:
            unregister(observer)
        assert res["bottom"].out == 34
