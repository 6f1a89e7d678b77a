"""Running one job wherever it is, and saying how it ended."""

from __future__ import annotations

from typing import Literal

import flowmill.backend as api

Outcome = tuple[Literal["done", "lost", "timeout"], str]
"""How a job ended and why, as a :class:`flowmill.backend.Status` value: the core
decides whether a "lost" job runs again; "timeout" (stopped by the sandbox after the
run's ``timeout``) is a failure, never retried."""


def execute(job: api.Job) -> Outcome:
    """Run one job; "lost" when it ended without writing its result or crash file."""
    try:
        job.execute()
    except Exception as exc:
        return "lost", f"flowmill could not run the job: {type(exc).__name__}: {exc}"
    return "done", ""
