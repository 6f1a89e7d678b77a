"""Bad options are refused with the fix, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowmill
from flowmill.testing._workflows import diamond


def refused(tmp_path: Path, **options: object) -> str:
    with pytest.raises(flowmill.PluginError) as info:
        diamond(tmp_path).run(plugin="ruffus", **options)
    assert not (tmp_path / "diamond" / "top" / "result.pkl").exists()
    return str(info.value)


def test_n_procs_must_be_positive(tmp_path: Path) -> None:
    assert "n_procs=0 must be at least 1" in refused(tmp_path, n_procs=0)


def test_mode_must_be_known(tmp_path: Path) -> None:
    message = refused(tmp_path, mode="gevent")
    assert "mode='gevent' should be 'multiprocess' | 'multithread'" in message


def test_flowchart_needs_a_known_suffix(tmp_path: Path) -> None:
    message = refused(tmp_path, flowchart=str(tmp_path / "plan.gif"))
    assert "give the file one of these suffixes" in message and ".dot" in message


def test_rendered_flowchart_needs_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    message = refused(tmp_path, flowchart=str(tmp_path / "plan.svg"))
    assert "apt-get install graphviz" in message and "write a .dot file" in message


def test_dry_run_needs_somewhere_to_write(tmp_path: Path) -> None:
    assert "also give printout='-'" in refused(tmp_path, dry_run=True)


def test_timeout_needs_worker_processes(tmp_path: Path) -> None:
    """Threads cannot be stopped: the capabilities of multithread mode say so, and the
    core refuses the run (multiprocess mode takes it, see test_ruffus_failure)."""
    message = refused(tmp_path, timeout=5.0, mode="multithread")
    assert "backend 'ruffus' does not support the timeout option with these options" in message


def test_node_cannot_set_run_wide_options(tmp_path: Path) -> None:
    wf = diamond(tmp_path)
    wf.get_node("left").plugin_args = {"n_procs": 1}
    with pytest.raises(flowmill.PluginError) as info:
        wf.run(plugin="ruffus")
    assert "node(s) left set ruffus options in plugin_args" in str(info.value)
    assert "Pass them to wf.run() instead" in str(info.value)
    assert not (tmp_path / "diamond" / "top" / "result.pkl").exists()


def test_plugin_args_that_change_nothing_are_accepted(tmp_path: Path) -> None:
    wf = diamond(tmp_path)
    wf.get_node("left").plugin_args = {"overwrite": True}
    assert wf.run(plugin="ruffus", mode="multithread")["bottom"].out == 34
