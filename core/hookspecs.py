"""The hook specifications of flowmill: the single source of truth of the plugin contract.

A plugin is any object or module with functions marked ``@flowmill.hookimpl`` whose
names and argument names match the specs below. Backends implement the two backend
hooks; observers (progress displays, loggers, status callbacks) implement event hooks.
Event hooks run on the driver, in the driver's thread; an observer that raises is
logged and never breaks the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import pluggy

if TYPE_CHECKING:
    from .contract.runinfo import RunInfo
    from .contract.types import Backend, RunContext
    from .execution.graph import ExecutionGraph
    from .execution.job import Job
    from .execution.result import RunResult

hookspec = pluggy.HookspecMarker("flowmill")


@hookspec
def flowmill_backends() -> "Sequence[Backend]":
    """Declare the backends this plugin provides (name, description, options,
    capabilities, contract version)."""


@hookspec(firstresult=True)
def flowmill_make_executor(backend: "Backend", options: Any, context: "RunContext") -> Any:
    """Build the executor of one run for ``backend``. Called only on the plugin that
    declared ``backend`` in ``flowmill_backends``, so a plugin declaring several
    backends tells them apart by ``backend.name``.

    ``options`` is an instance of ``backend.options``, already validated. The result
    implements :class:`flowmill.backend.JobExecutor` or
    :class:`flowmill.backend.GraphExecutor`.
    """


@hookspec
def flowmill_run_started(run: "RunInfo", graph: "ExecutionGraph") -> None:
    """A run validated its workflow and is about to resolve the cache and dispatch
    the jobs of ``graph`` (read it, do not change it)."""


@hookspec
def flowmill_run_finished(run: "RunInfo", result: "RunResult") -> None:
    """A run ended (successfully or with failed nodes); ``result`` tells which."""


@hookspec
def flowmill_run_aborted(run: "RunInfo", error: BaseException) -> None:
    """A run ended without a result: interrupted (Ctrl-C) or its executor raised
    ``error``, which propagates to the caller after this hook. Observers close what
    they opened (a live display, a record file)."""


@hookspec
def flowmill_node_cached(run: "RunInfo", job: "Job") -> None:
    """A node's result was found valid on disk and reused without running."""


@hookspec
def flowmill_node_submitted(run: "RunInfo", job: "Job") -> None:
    """A node was handed to the executor."""


@hookspec
def flowmill_node_started(run: "RunInfo", job: "Job", where: "str | None") -> None:
    """The executor reported that the node began running. ``where`` is where it runs,
    as the backend knows it (``"HOST pid N"``, ``"IPython engine 2 on HOST"``, a
    Slurm node), or None if the backend cannot tell. An observer written before
    ``where`` existed, naming only ``run`` and ``job``, keeps working: pluggy passes
    an implementation only the arguments it names."""


@hookspec
def flowmill_node_finished(run: "RunInfo", job: "Job", report: "Mapping[str, Any]") -> None:
    """A node ran and its result is in the store. ``report`` is the result header
    the job wrote where it ran: ``hash`` (the cache key), ``host``, ``pid``,
    ``started`` and ``ended`` (that host's clock), ``duration``, ``cpu_s`` (user +
    system time, the job's child processes included) and ``max_rss_kib`` (peak
    resident memory of the process that ran it; on a reused worker, its peak so far)."""


@hookspec
def flowmill_node_failed(run: "RunInfo", job: "Job", error: str, crash_file: str) -> None:
    """A node failed for good (after retries); its crash file is written."""


@hookspec
def flowmill_node_retried(run: "RunInfo", job: "Job", attempt: int, reason: str) -> None:
    """A node was lost (``reason``) and is submitted again as attempt ``attempt``
    (the run's ``retries`` allow it)."""


@hookspec
def flowmill_node_skipped(run: "RunInfo", job: "Job", because: str) -> None:
    """A node did not run because the upstream node ``because`` failed."""
