"""The closed vocabularies of a run: what became of a node, what an executor reports
about a job, what the core answers, and the kinds of failure the core writes into
crash files itself. String enums, so they compare equal to the plain strings that
results, crash files and older plugins use."""

from __future__ import annotations

from enum import StrEnum


class NodeState(StrEnum):
    """What became of one job in a run (``RunResult.state(job_id)``)."""

    RAN = "ran"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"
    """Left in a scheduler's queue on purpose (``wait=False``); a later run re-attaches."""
    NOT_RUN = "not run"


class Status(StrEnum):
    """How a job left an executor's hands (:attr:`Completion.status`)."""

    DONE = "done"
    """It ran to its end: its result or its crash file is in the store."""
    LOST = "lost"
    """It never got to say (worker died, killed, never started): retried up to ``retries``."""
    TIMEOUT = "timeout"
    """The backend stopped it at the run's ``timeout`` itself (``Capabilities.timeouts
    == "native"``): a failure, never retried."""
    BLOCKED = "blocked"
    """It refused to run because a parent's result was not there (a job-side guard of a
    scheduler holding jobs on their parents): skipped if a parent failed, else lost."""


class Verdict(StrEnum):
    """The core's answer to a graph-level executor reporting a completion."""

    SETTLED = "settled"
    """The core recorded the job's fate (or ignored a late report); nothing to do."""
    RESUBMIT = "resubmit"
    """The job was lost and has retries left: run it again, with its dependants held on
    the new attempt."""


class CrashKind(StrEnum):
    """``error_type`` of the crash files the core writes for jobs that could not."""

    LOST = "JobLost"
    TIMEOUT = "Timeout"
    RESULT_MISSING = "ResultMissing"
