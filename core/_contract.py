"""The types a backend exchanges with the core: its declaration, its capabilities,
the executor shapes it may implement and what it reports back.

A backend author reads this module and ``flowmill.hookspecs``; nothing else in the core
is part of the contract.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Final, Literal, Mapping, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:
    from ._graph import ExecutionGraph
    from ._job import Job

CONTRACT_VERSION: Final = 1
"""Version of the backend contract this flowmill speaks. A backend states the version
it was written for in :attr:`Backend.contract` (as a literal number, not by importing
this constant); a mismatch is reported with the fix before anything runs."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can and needs, so the core validates a workflow for it up front.

    ``needs_pickle``: jobs travel to another process, so every callable and input must
    pickle (checked with cloudpickle before any job is submitted).
    ``shared_fs``: workers read and write ``base_dir`` directly; it must be a path that
    every execution host sees.
    ``timeouts``: the backend can stop one running job, so the core's per-node
    ``timeout`` option is honoured.
    ``arrays``, ``dependencies``, ``reattach``: the backend can submit a batch of sibling
    jobs as one, can let the scheduler hold jobs on their parents, and can pick up jobs
    in flight after the driver restarted.
    """

    needs_pickle: bool = False
    shared_fs: bool = False
    timeouts: bool = False
    arrays: bool = False
    dependencies: bool = False
    reattach: bool = False


@dataclass(frozen=True)
class Backend:
    """One execution backend as a plugin declares it from ``flowmill_backends``.

    ``options`` is a dataclass whose fields are the backend's options: each field has a
    type annotation, a default, and ``metadata={"help": "..."}``. The core turns it into
    validation (unknown or ill-typed options are refused before anything runs) and into
    the listing of ``flowmill plugins``.
    """

    name: str
    description: str
    contract: int
    options: type
    capabilities: Capabilities = field(default_factory=Capabilities)
    run_defaults: Mapping[str, Any] = field(default_factory=dict)
    """Defaults this backend prefers for the core's run options (e.g. ``retries``)."""


@dataclass(frozen=True)
class Completion:
    """What an executor reports when a job left its hands.

    ``status``: ``"done"`` when the job ran to its end, whether it succeeded or failed in
    the user's code (the job wrote its result or its crash file itself; the core reads
    which from the result store); ``"lost"`` when the job never got to say (engine died,
    killed by a signal or by the scheduler, never started). Lost jobs are retried up to
    the run's ``retries``; ``reason`` and ``details`` (job id, exit status, log paths...)
    go into the crash file.
    """

    job_id: str
    status: Literal["done", "lost"] = "done"
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """Handed to a backend when its executor is built for one run.

    ``started`` tells the driver that a job began running (call it from any thread);
    ``workflow_dir`` is where the results of this run live; ``run_options`` are the
    core's options of this run (graph-level backends honour ``retries`` and
    ``timeout`` themselves, since they schedule).
    """

    run_id: str
    workflow_dir: Path
    started: Callable[[str], None]
    log: logging.Logger
    run_options: Any = None


@runtime_checkable
class JobExecutor(Protocol):
    """A backend that takes ready jobs one at a time; the core does the scheduling.

    ``slots`` caps how many jobs the core keeps submitted at once (``None``: no cap
    beyond the run's ``max_jobs``). ``submit`` must not block on the job running.
    ``wait`` blocks until at least one submitted job completed or ``timeout`` seconds
    passed, and returns the completions (possibly none on timeout); it must wake on
    completion, not sleep-poll. ``cancel`` stops the given jobs if they are still queued
    or running (used for timeouts and Ctrl-C); ``shutdown`` releases everything the
    executor holds, also after an error.

    Optionally, ``submit_batch(jobs, options)`` receives the ready elements of one
    MapNode together (same ``job.group``), e.g. to submit them as one job array; a
    batch may exceed ``slots``, since it is one submission.
    """

    slots: int | None

    def submit(self, job: "Job", options: Any) -> None: ...

    def wait(self, timeout: float | None) -> Sequence[Completion]: ...

    def cancel(self, job_ids: Sequence[str]) -> None: ...

    def shutdown(self) -> None: ...


class GraphEvents(Protocol):
    """How a graph-level executor reports back while it runs the graph."""

    def completed(self, completion: Completion) -> None: ...

    def blocked(self, job_id: str) -> bool:
        """True if the job must not run because one of its ancestors failed."""
        ...


@runtime_checkable
class GraphExecutor(Protocol):
    """A backend that takes the whole remaining graph at once and schedules it itself.

    ``run_graph`` receives only the jobs that are not cached, with their dependencies,
    and per-job options (already merged with the node's own ``plugin_args``). It calls
    ``events.completed`` for every job that left its hands (from any thread) and
    returns the ids of jobs it left running on purpose (e.g. submitted with
    dependencies and ``wait=False``), which the run reports as pending.
    """

    def run_graph(self, graph: "ExecutionGraph", options: Mapping[str, Any],
                  events: GraphEvents) -> Sequence[str]: ...

    def cancel(self, job_ids: Sequence[str]) -> None: ...

    def shutdown(self) -> None: ...
