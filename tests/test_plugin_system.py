"""The plugin manager as third-party plugins meet it: a backend's executor is built by
the plugin that declared it, broken distributions are reported by name while the
other backends keep working, misspelled hooks are refused, and observers are called
by pluggy (wrappers and ordering work, a raising observer never breaks a run)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pytest

import flowmill
import flowmill.backend as api
from flowmill import PluginError

from .test_contract import one_node
from .test_packaging import ONE_NODE


@pytest.fixture
def registered():
    """Register plugins in code for one test, and take them away afterwards."""
    plugins: list[object] = []

    def register(plugin: object, name: str | None = None) -> object:
        flowmill.register(plugin, name=name)
        plugins.append(plugin)
        return plugin

    yield register
    for plugin in plugins:
        flowmill.unregister(plugin)


@dataclass(frozen=True)
class GreedyOptions:
    """The greedy backend takes no options."""


class RecordingExecutor:
    """A job-level executor that runs jobs in place and remembers which it ran."""

    slots = 1

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.queue: list[api.Job] = []

    def submit(self, job: api.Job, options: Any) -> None:
        self.queue.append(job)

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        job = self.queue.pop(0)
        job.execute()
        self.ran.append(job.id)
        return [api.Completion(job.id)]

    def cancel(self, job_ids: Sequence[str]) -> None:
        self.queue = [job for job in self.queue if job.id not in job_ids]

    def shutdown(self) -> None:
        self.queue.clear()


class GreedyPlugin:
    """Declares the backend ``greedy`` but builds its executor for any backend name."""

    def __init__(self) -> None:
        self.executor = RecordingExecutor()
        self.asked: list[str] = []

    @api.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [api.Backend(name="greedy", description="answers for every backend", contract=2,
                            options=GreedyOptions)]

    @api.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any, context: api.RunContext) -> Any:
        self.asked.append(backend.name)
        return self.executor


def test_a_plugin_that_ignores_the_backend_name_does_not_hijack_linear(tmp_path, registered):
    greedy = registered(GreedyPlugin(), name="greedy-plugin")
    assert one_node(tmp_path).run(plugin="linear")["n"].out == 2
    assert greedy.asked == [] and greedy.executor.ran == []
    assert one_node(tmp_path / "again").run(plugin="greedy")["n"].out == 2
    assert greedy.asked == ["greedy"] and greedy.executor.ran == ["n"]


class MisspelledHook:
    @api.hookimpl
    def flowmill_make_executer(self, backend: api.Backend, options: Any, context: api.RunContext) -> Any:
        return None


def test_a_misspelled_hook_is_refused_naming_the_plugin_and_the_right_hook():
    plugin = MisspelledHook()
    with pytest.raises(PluginError, match=r"plugin 'typo-plugin' implements 'flowmill_make_executer', which is "
                                          r"not a flowmill hook; did you mean 'flowmill_make_executor'\?"):
        flowmill.register(plugin, name="typo-plugin")
    assert not flowmill.plugin_manager().is_registered(plugin)


class MisnamedArgument:
    @api.hookimpl
    def flowmill_backends(self) -> list[api.Backend]:
        return [api.Backend(name="misnamed", description="never usable", contract=2, options=GreedyOptions)]

    @api.hookimpl
    def flowmill_make_executor(self, backend: api.Backend, options: Any, ctx: Any) -> Any:
        return RecordingExecutor()


def test_a_hookimpl_with_a_misnamed_argument_is_refused_whole(tmp_path):
    plugin = MisnamedArgument()
    with pytest.raises(PluginError, match=r"ctx"):
        flowmill.register(plugin, name="misnamed-plugin")
    assert not flowmill.plugin_manager().is_registered(plugin)
    assert "misnamed" not in flowmill.installed_backends()
    assert one_node(tmp_path).run()["n"].out == 2


class Ordered:
    """Observers that append to one shared list, to see pluggy's calling order."""

    def __init__(self, calls: list[str], label: str) -> None:
        self.calls = calls
        self.label = label


class FirstObserver(Ordered):
    @api.hookimpl(tryfirst=True)
    def flowmill_node_finished(self, run: api.RunInfo, job: api.Job) -> None:
        self.calls.append(self.label)


class PlainObserver(Ordered):
    @api.hookimpl
    def flowmill_node_finished(self, run: api.RunInfo, job: api.Job) -> None:
        self.calls.append(self.label)


class WrapperObserver(Ordered):
    @api.hookimpl(wrapper=True)
    def flowmill_node_finished(self, run: api.RunInfo, job: api.Job) -> Any:
        self.calls.append(f"{self.label} before {job.id}")
        result = yield
        self.calls.append(f"{self.label} after {job.id}")
        return result


class RaisingObserver:
    @api.hookimpl
    def flowmill_node_finished(self, run: api.RunInfo, job: api.Job) -> None:
        raise RuntimeError("observer bug")


class RaisingWrapper:
    @api.hookimpl(wrapper=True)
    def flowmill_node_finished(self, run: api.RunInfo, job: api.Job) -> Any:
        raise RuntimeError("wrapper bug")
        yield  # pragma: no cover - makes this a generator, as pluggy requires of wrappers


def test_observers_are_called_by_pluggy_wrappers_and_tryfirst_included(tmp_path, registered):
    calls: list[str] = []
    registered(FirstObserver(calls, "first"))
    registered(PlainObserver(calls, "plain"))
    registered(WrapperObserver(calls, "wrapper"))
    one_node(tmp_path).run()
    assert calls == ["wrapper before n", "first", "plain", "wrapper after n"]


@pytest.mark.parametrize("raising", [RaisingObserver, RaisingWrapper])
def test_a_raising_observer_never_breaks_a_run(tmp_path, registered, caplog, raising):
    calls: list[str] = []
    registered(raising())
    registered(PlainObserver(calls, "plain"))
    assert one_node(tmp_path).run()["n"].out == 2
    assert "bug" in caplog.text
    assert calls == ([] if raising is RaisingWrapper else ["plain"])


BROKEN_DISTRIBUTIONS = {
    "flowmill-broken-import": ("brokenimport", "flowmill_broken_import", """
        import libfoo_that_is_not_installed
        """),
    "flowmill-ctx": ("ctxplugin", "flowmill_ctx", """
        from dataclasses import dataclass
        import flowmill.backend as api

        @dataclass(frozen=True)
        class Options:
            pass

        @api.hookimpl
        def flowmill_backends():
            return [api.Backend(name="ctx", description="misnamed argument", contract=2, options=Options)]

        @api.hookimpl
        def flowmill_make_executor(backend, options, ctx):
            return None
        """),
    "flowmill-typo": ("typoplugin", "flowmill_typo", """
        import flowmill.backend as api

        @api.hookimpl
        def flowmill_make_executer(backend, options, context):
            return None
        """),
}


def install_distribution(site: Path, name: str, entry_point: str, module: str, source: str) -> None:
    """Lay a distribution out as an installer does: its module, and a ``.dist-info``
    directory with its metadata and its ``flowmill.plugins`` entry point."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[flowmill.plugins]\n{entry_point} = {module}\n")
    (info / "top_level.txt").write_text(f"{module}\n")


RUN_LINEAR_THEN_CTX = ONE_NODE + """
try:
    wf.run(plugin="ctx")
except flowmill.PluginError as exc:
    print("ctx:", exc)
"""


@pytest.fixture
def broken_site(tmp_path):
    """A directory holding three broken plugin distributions, and the environment
    that puts it on the path of a fresh interpreter."""
    site = tmp_path / "site"
    site.mkdir()
    for name, (entry_point, module, source) in BROKEN_DISTRIBUTIONS.items():
        install_distribution(site, name, entry_point, module, source)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_broken_distributions_are_listed_by_name_with_the_reason(broken_site):
    done = subprocess.run([sys.executable, "-m", "flowmill.cli", "plugins"], env=broken_site,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listing = done.stdout
    assert "linear  (flowmill-linear" in listing
    assert "ctx  (" not in listing
    broken = listing[listing.index("broken plugins"):]
    assert ("flowmill-broken-import 1.0: ModuleNotFoundError: No module named 'libfoo_that_is_not_installed'"
            in broken)
    assert "flowmill-ctx 1.0: " in broken and "'ctx'" in broken
    assert ("flowmill-typo 1.0: PluginError: plugin 'typoplugin' implements 'flowmill_make_executer', which is "
            "not a flowmill hook; did you mean 'flowmill_make_executor'?") in broken


def test_broken_distributions_leave_linear_usable(broken_site, tmp_path):
    done = subprocess.run([sys.executable, "-c", RUN_LINEAR_THEN_CTX], cwd=tmp_path, env=broken_site,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "2"
    assert "ctx: no backend named 'ctx' is installed" in done.stdout
    assert "Broken plugins that may provide it:" in done.stdout and "flowmill-ctx 1.0" in done.stdout
