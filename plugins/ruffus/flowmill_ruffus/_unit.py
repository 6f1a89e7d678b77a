"""What a Ruffus job is made of, and the function every Ruffus task runs.

That function never raises for a job's failure: Ruffus would stop scheduling even
independent branches. The driver decides instead which jobs may still run.
"""

from __future__ import annotations

from typing import Literal

import flowmill

from ._reporting import Reporter


class Names:
    """The ids of the jobs a unit reads from: what Ruffus' printout shows as a job's
    input. Not a string nor a sequence, so Ruffus never looks for files by that name."""

    __slots__ = ("ids",)

    def __init__(self, ids: tuple[str, ...]) -> None:
        self.ids = ids

    def __str__(self) -> str:
        return ", ".join(self.ids) or "(start)"

    __repr__ = __str__


class Unit:
    """One Ruffus job: a chain of flowmill jobs run in order, and where to report."""

    __slots__ = ("job_ids", "reporter", "attempts")

    def __init__(self, job_ids: tuple[str, ...], reporter: Reporter, attempts: int) -> None:
        self.job_ids = job_ids
        self.reporter = reporter
        self.attempts = attempts

    def __str__(self) -> str:
        return " -> ".join(self.job_ids)

    __repr__ = __str__


def execute(job: flowmill.Job) -> tuple[Literal["done", "lost"], str]:
    """Run one job; "lost" when it ended without writing its result or crash file."""
    try:
        job.execute()
    except SystemExit as exc:
        return "lost", f"the node's code called sys.exit({exc.code!r}) instead of returning or raising"
    except Exception as exc:
        return "lost", f"flowmill could not run the job: {type(exc).__name__}: {exc}"
    return "done", ""


def run_unit(inputs: Names, unit: Unit) -> None:
    """flowmill runs these jobs in order, each only if its inputs exist."""
    for job_id in unit.job_ids:
        job = unit.reporter.begin(job_id)
        if job is None:
            continue
        for _ in range(unit.attempts):
            status, reason = execute(job)
            if status == "done":
                break
        unit.reporter.end(job_id, status, reason)
