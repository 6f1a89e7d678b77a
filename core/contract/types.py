"""The types a backend exchanges with the core: its declaration, its capabilities,
the executor shapes it may implement and what it reports back.

The policy is the core's: retries of lost jobs, timeouts and their clock, the grace
period for results on a shared file system, skipping the dependants of a failed node,
``max_jobs`` and ``stop_on_first_crash`` are decided once, in
``flowmill.execution.runner``, for both executor shapes. An executor says *where* and
*how* jobs run; it asks the core *whether* (``GraphEvents.blocked``) and *what next*
(the :class:`~flowmill.backend.Verdict` of ``GraphEvents.completed``). Authors import
all of this from :mod:`flowmill.backend`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Final,
    Literal,
    Mapping,
    Protocol,
    Sequence,
    runtime_checkable,
)

from .states import Status, Verdict

if TYPE_CHECKING:
    from ..execution.graph import ExecutionGraph
    from ..execution.job import Job
    from .options import RunOptions

CONTRACT_VERSION: Final = 2
"""Version of the backend contract this flowmill speaks. A backend states the version
it was written for in :attr:`Backend.contract` (as a literal number, not by importing
this constant); a mismatch is reported with the fix before anything runs.
Version 2: the core answers graph-level completions with a verdict, skips dependants
through ``cancel``, and capabilities say how timeouts are enforced."""

TimeoutMode = Literal["none", "cancel", "native"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can and needs, so the core validates a run for it up front and
    refuses, naming the option, what it cannot honour.

    ``needs_pickle``: jobs travel to another process, so every callable and input must
    pickle (checked with cloudpickle before any job is submitted).
    ``shared_fs``: workers read and write ``base_dir`` directly, so it must be a path
    every execution host sees (shown by ``flowmill plugins`` and the README's table).
    ``timeouts``: how the run's ``timeout`` is enforced. ``"cancel"``: the core calls
    ``cancel`` when a job's time is up, clocked from its ``started`` report, or from its
    submission if the backend does not report starts (such a backend takes no more jobs
    than it can start at once). ``"native"``: the backend enforces the limit itself from
    the job's real start (a scheduler's run-time limit) and reports
    ``Status.TIMEOUT``. ``"none"``: the option is refused.
    ``reports_starts``: the executor calls ``RunContext.started`` when a job begins.
    ``max_jobs``: a graph-level executor caps its jobs in flight at the run's
    ``max_jobs`` (job-level executors are capped by the core and need not).
    ``cpus``, ``mem_gb``: the most one job may ask for in its ``resources`` (a local
    pool's size); a node asking more is refused up front, by name, since it could
    never start. ``None``: no limit the core can check.
    """

    needs_pickle: bool = False
    shared_fs: bool = False
    timeouts: TimeoutMode = "none"
    reports_starts: bool = False
    max_jobs: bool = True
    cpus: int | None = None
    mem_gb: float | None = None


@dataclass(frozen=True)
class Backend:
    """One execution backend as a plugin declares it from ``flowmill_backends``.

    ``options`` is a dataclass whose fields are the backend's options: each field has a
    type annotation, a default, and ``metadata={"help": "..."}``. The core turns it into
    validation (unknown or ill-typed options are refused before anything runs) and into
    the listing of ``flowmill plugins``.

    ``capabilities`` is a :class:`Capabilities`, or a function of the validated options
    for a backend whose modes differ (Ruffus' threads cannot stop a node; SGE's graph
    mode cannot cap its jobs). ``modes`` names the option sets that change behaviour,
    for the documentation's table and for the conformance kit, which runs each mode.
    """

    name: str
    description: str
    contract: int
    options: type
    capabilities: "Capabilities | Callable[[Any], Capabilities]" = field(default_factory=Capabilities)
    run_defaults: Mapping[str, Any] = field(default_factory=dict)
    """Defaults this backend prefers for the core's run options (e.g. ``retries``)."""
    modes: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: {"default": {}})

    def capabilities_for(self, options: Any) -> Capabilities:
        if isinstance(self.capabilities, Capabilities):
            return self.capabilities
        return self.capabilities(options)


@dataclass(frozen=True)
class Completion:
    """What an executor reports when a job left its hands: a :class:`Status` (plain
    strings ``"done"``/``"lost"`` are accepted), and for anything but ``done`` a
    ``reason``; ``details`` (job id, exit status, log paths...) go into the crash file."""

    job_id: str
    status: Status | str = Status.DONE
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """Handed to a backend when its executor is built for one run.

    ``started(job_id, where=None)`` tells the core that a job began running (call it
    from any thread; it starts the job's timeout clock); ``where`` names where it runs,
    for the live display and observers: ``flowmill.backend.process_place(pid)`` for a
    process on this host, or what the scheduler calls the place (a node, an engine).
    Only the first report of an attempt counts. ``workflow_dir`` is where the results of this run
    live; ``run_options`` are the core's options of this run, for what the backend
    enforces where jobs run (``max_jobs`` of a graph-level executor, a native
    ``timeout``, ``result_grace`` of a job-side guard).
    """

    run_id: str
    workflow_dir: Path
    started: Callable[..., None]
    """``started(job_id: str, where: str | None = None) -> None``"""
    log: logging.Logger
    run_options: "RunOptions"


@runtime_checkable
class JobExecutor(Protocol):
    """A backend that takes ready jobs one at a time; the core does the scheduling.

    Threading: every method is called from the driver thread. ``slots`` caps how many
    jobs the core keeps submitted at once (``None``: no cap beyond the run's
    ``max_jobs``). ``submit`` must not block on the job running. ``wait`` blocks until
    at least one submitted job completed or ``timeout`` seconds passed, and returns the
    completions (possibly none on timeout); it must wake on completion, not
    sleep-poll. A lost job is submitted again by the core (same :class:`Job`).
    ``cancel`` stops the given jobs if they are still queued or running (timeouts,
    Ctrl-C) and must ignore ids it no longer holds; ``shutdown`` releases everything
    the executor holds, also after an error.

    Optionally, ``submit_batch(jobs, options)`` receives the ready elements of one
    MapNode together (same ``job.group``), e.g. to submit them as one job array; a
    batch may exceed ``slots``, since it is one submission. Optionally, ``alive() ->
    str | None``, called from the driver thread when no completion came for a few
    seconds, answers the reason why the executor can finish nothing more (e.g. every
    engine is gone), or None; the core then fails the jobs it holds as lost with that
    reason and stops the run, instead of waiting forever.
    """

    slots: int | None

    def submit(self, job: "Job", options: Any) -> None: ...

    def wait(self, timeout: float | None) -> Sequence[Completion]: ...

    def cancel(self, job_ids: Sequence[str]) -> None: ...

    def shutdown(self) -> None: ...


class GraphEvents(Protocol):
    """How a graph-level executor asks the core and reports back; both methods may be
    called from any thread."""

    def completed(self, completion: Completion) -> Verdict:
        """Report a job that left the executor's hands. The answer is
        ``Verdict.RESUBMIT`` when the job was lost and the run's ``retries`` allow
        another attempt (submit it again, its waiting dependants held on the new
        attempt); otherwise ``Verdict.SETTLED``. Settling reads the job's result from
        the store and may block up to the run's ``result_grace``. Reports of jobs the
        core already settled (skipped, timed out, reported twice) are ignored."""
        ...

    def blocked(self, job_id: str) -> bool:
        """True if the job must not run: an ancestor failed, the run stops at its first
        crash, or the core cancelled it. A job that is blocked is settled by the core;
        do not report it."""
        ...


@runtime_checkable
class GraphExecutor(Protocol):
    """A backend that takes the whole remaining graph at once and schedules it itself.

    ``run_graph`` runs on a thread of its own. It receives only the jobs that are not
    cached, with their dependencies, and per-job options (already merged with the
    node's own ``plugin_args``). It reports every job it ran through
    ``events.completed`` and returns when none is owed, with the ids of jobs it left
    in a scheduler on purpose (e.g. ``wait=False``), which the run reports as pending.

    ``cancel`` is called from the driver thread, while ``run_graph`` runs: for jobs the
    core settled without them (the dependants of a failed node, a stop at the first
    crash, an expired timeout, Ctrl-C). It must stop them if queued or running, never
    start them, and not report them. ``shutdown`` is called from the driver thread
    once ``run_graph`` returned or was abandoned.

    Optionally, ``alive() -> str | None``, as on :class:`JobExecutor`: called from the
    driver thread when no event came for a few seconds; a reason means the executor
    can finish nothing more (its workers are gone), and the core then fails every
    job not settled as lost with that reason, cancels them, and gives ``run_graph`` a
    short grace to return before the run ends without it.
    """

    def run_graph(self, graph: "ExecutionGraph", options: Mapping[str, Any],
                  events: GraphEvents) -> Sequence[str]: ...

    def cancel(self, job_ids: Sequence[str]) -> None: ...

    def shutdown(self) -> None: ...
