"""Where the engines come from, and what happens when they go: the temporary cluster a
run starts when none is named or running, an engine killed mid-run, and the errors
raised before any node is submitted when the named cluster cannot serve."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import flowmill
from flowmill import Node, Workflow
from flowmill.testing._workflows import diamond, inc

from ..fixtures.ipython import IPCluster, cluster_processes

pytestmark = pytest.mark.ipython


@pytest.fixture
def no_default_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty IPython dir: the default profile has no running cluster."""
    ipython_dir = tmp_path / "ipython-dir"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    return ipython_dir


def _temporary_profile_dir(caplog: pytest.LogCaptureFixture) -> str:
    starts = [re.search(r"temporary local cluster of \d+ engines in (\S+);", record.getMessage())
              for record in caplog.records]
    found = [match.group(1) for match in starts if match]
    assert len(found) == 1, "the run did not say it started a temporary cluster"
    return found[0]


def test_temporary_cluster_is_started_and_stopped(tmp_path: Path, no_default_cluster: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flowmill")
    res = diamond(tmp_path).run(plugin="ipython", n_engines=2)
    assert res["bottom"].out == 34
    profile_dir = _temporary_profile_dir(caplog)
    assert cluster_processes(profile_dir) == []
    assert not Path(profile_dir).exists()
    assert any("stopped the temporary IPython cluster" in r.getMessage() for r in caplog.records)


def test_default_profile_cluster_is_used(tmp_path: Path, ipython_cluster: IPCluster,
                                        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("IPYTHONDIR", str(ipython_cluster.profile_dir.parent))
    caplog.set_level(logging.INFO, logger="flowmill")
    res = diamond(tmp_path).run(plugin="ipython")
    assert res["bottom"].out == 34
    messages = [record.getMessage() for record in caplog.records]
    assert any("using the running cluster of the default profile (2 engines)" in m for m in messages)
    assert not any("temporary" in m for m in messages)


def work_slowly(marker_dir: str, x: int) -> int:
    """Leave this engine's pid where the test can find it, then take a while."""
    Path(marker_dir, f"{os.getpid()}.pid").touch()
    time.sleep(3)
    return x * 10


def _kill_first_engine_seen(marker_dir: Path, killed: list[int]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = list(marker_dir.glob("*.pid"))
        if pids:
            pid = int(pids[0].stem)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


def _with_victim(tmp_path: Path) -> tuple[Workflow, Path]:
    """victim -> after_victim, beside five independent nodes."""
    markers = tmp_path / "markers"
    markers.mkdir()
    wf = Workflow("victims", base_dir=tmp_path)
    victim = Node(work_slowly, name="victim")
    victim.inputs.marker_dir = str(markers)
    victim.inputs.x = 3
    after = Node(inc, name="after_victim")
    wf.connect(victim, "out", after, "x")
    for i in range(5):
        other = Node(inc, name=f"other{i}")
        other.inputs.x = i
        wf.add_nodes([other])
    return wf, markers


@pytest.mark.parametrize("retries", [1, 0])
def test_engine_killed_mid_run(tmp_path: Path, no_default_cluster: Path, caplog: pytest.LogCaptureFixture,
                               retries: int) -> None:
    """SIGKILL the engine running a node: with a retry left it reruns on the other
    engine and the run finishes; without, it fails naming the dead engine, and the
    independent nodes finish either way."""
    caplog.set_level(logging.INFO, logger="flowmill")
    wf, markers = _with_victim(tmp_path)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_first_engine_seen, args=(markers, killed))
    killer.start()
    try:
        if retries:
            res = wf.run(plugin="ipython", n_engines=2)
        else:
            with pytest.raises(flowmill.WorkflowError) as info:
                wf.run(plugin="ipython", n_engines=2, retries=0)
            res = info.value.result
    finally:
        killer.join()
    assert len(killed) == 1
    assert [res[f"other{i}"].out for i in range(5)] == [1, 2, 3, 4, 5]
    if retries:
        assert res["victim"].out == 30 and res["after_victim"].out == 31
        assert len(list(markers.glob("*.pid"))) == 2, "the node was not rerun on another engine"
        assert any("was lost" in r.getMessage() and "died" in r.getMessage() for r in caplog.records)
    else:
        assert res.failed == ["victim"] and res.skipped == ["after_victim"]
        crash = flowmill.store.results.read_crash(res.crash_files["victim"])  # type: ignore[attr-defined]
        assert re.search(r"IPython engine \d+ died while running the node", crash["error"])
        assert crash["error_type"] == "JobLost"
    assert cluster_processes(_temporary_profile_dir(caplog)) == []


def test_named_cluster_that_does_not_exist(tmp_path: Path, no_default_cluster: Path) -> None:
    cases: list[dict[str, Any]] = [
        {"url_file": str(tmp_path / "nowhere" / "ipcontroller-client.json")},
        {"profile_dir": str(tmp_path / "empty-profile")},
        {"cluster_id": "not-running"},
        {"profile": "nosuchprofile"},
    ]
    for options in cases:
        with pytest.raises(flowmill.PluginError, match=r"ipcluster start -n N"):
            diamond(tmp_path).run(plugin="ipython", **options)
    assert not list(tmp_path.glob("diamond/*/result.pkl")), "a node ran although the cluster was missing"


def test_controller_without_engines_then_gone(tmp_path: Path, no_default_cluster: Path) -> None:
    cluster = IPCluster(tmp_path / "profile", "no-engines", 0)
    cluster.start()
    stale = tmp_path / "stale-client.json"
    try:
        shutil.copy(cluster.url_file, stale)
        with pytest.raises(flowmill.PluginError, match=r"has no engines.*ipcluster engines -n N"):
            diamond(tmp_path).run(plugin="ipython", url_file=str(cluster.url_file), engine_timeout=1.0)
    finally:
        assert cluster.stop() == []
    with pytest.raises(flowmill.PluginError, match=r"cannot reach.*ipcluster start -n N"):
        diamond(tmp_path).run(plugin="ipython", url_file=str(stale), connect_timeout=1.0)
    assert not list(tmp_path.glob("diamond/*/result.pkl"))


def test_stale_default_connection_file_is_ignored(tmp_path: Path, no_default_cluster: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The default profile keeps the connection file of a controller that is gone: the
    run says so and starts its temporary cluster instead."""
    cluster = IPCluster(no_default_cluster / "profile_default", "", 0)
    cluster.start()
    left_behind = cluster.url_file.read_bytes()
    assert cluster.stop() == []
    cluster.url_file.write_bytes(left_behind)
    caplog.set_level(logging.INFO, logger="flowmill")
    res = diamond(tmp_path).run(plugin="ipython", n_engines=1, connect_timeout=1.0)
    assert res["bottom"].out == 34
    assert any("no longer answers; ignoring it" in r.getMessage() for r in caplog.records)
    assert cluster_processes(_temporary_profile_dir(caplog)) == []


def test_options_are_checked_up_front(tmp_path: Path) -> None:
    with pytest.raises(flowmill.PluginError, match="n_engines sizes the temporary cluster"):
        diamond(tmp_path).run(plugin="ipython", url_file="/x.json", n_engines=4)
    with pytest.raises(flowmill.PluginError, match="n_engines=0 must be at least 1"):
        diamond(tmp_path).run(plugin="ipython", n_engines=0)
    with pytest.raises(flowmill.PluginError, match="Valid options:.*profile_dir"):
        diamond(tmp_path).run(plugin="ipython", engines=2)
