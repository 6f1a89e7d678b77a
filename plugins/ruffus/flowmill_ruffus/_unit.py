"""What a Ruffus job is made of, and the function every Ruffus task runs.

That function never raises for a job's failure: Ruffus would stop scheduling even
independent branches. The core decides instead which jobs may still run, and whether
a lost job runs again (its verdict on the job's end).
"""

from __future__ import annotations

from typing import Any

from ._link import Link


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
    """One Ruffus job: a chain of flowmill jobs run in order, and the link to the driver."""

    __slots__ = ("job_ids", "link")

    def __init__(self, job_ids: tuple[str, ...], link: Link[Any]) -> None:
        self.job_ids = job_ids
        self.link = link

    def __str__(self) -> str:
        return " -> ".join(self.job_ids)

    __repr__ = __str__


def run_unit(inputs: Names, unit: Unit) -> None:  # ``inputs`` only labels the job in Ruffus' printout
    """flowmill runs these jobs in order, each only if the core lets it start, and
    again while the core answers its end with a resubmission."""
    for job_id in unit.job_ids:
        while (work := unit.link.begin(job_id)) is not None:
            status, reason = unit.link.run(work)
            if not unit.link.end(job_id, status, reason):
                break
