"""The ``linear`` backend: every node runs in the driver process, in dependency order.

It is the default backend and the simplest complete job-level executor, registered
through the ``flowmill.plugins`` entry point exactly as a third-party backend would be.
Nothing is pickled and nothing leaves the process, so it runs lambdas and closures over
open handles, and tracebacks point straight at the user's code.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Sequence

import flowmill.backend as api

__all__ = ["LinearExecutor", "LinearOptions"]


@dataclass(frozen=True)
class LinearOptions:
    """The linear backend takes no options of its own."""


BACKEND = api.Backend(
    name="linear",
    description="runs nodes one after another in the driver process (the default)",
    contract=2,
    options=LinearOptions,
    capabilities=api.Capabilities(reports_starts=True),
)


class LinearExecutor:
    """Job-level executor: ``submit`` queues, ``wait`` runs the next job in place."""

    slots = 1

    def __init__(self, context: api.RunContext) -> None:
        self._context = context
        self._queue: deque[api.Job] = deque()

    def submit(self, job: api.Job, options: Any) -> None:
        self._queue.append(job)

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        if not self._queue:
            return []
        job = self._queue.popleft()
        self._context.started(job.id, api.process_place())
        job.execute()
        return [api.Completion(job.id)]

    def cancel(self, job_ids: Sequence[str]) -> None:
        dropped = set(job_ids)
        self._queue = deque(job for job in self._queue if job.id not in dropped)

    def shutdown(self) -> None:
        self._queue.clear()


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [BACKEND]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: Any,
                           context: api.RunContext) -> LinearExecutor | None:
    return LinearExecutor(context) if backend.name == "linear" else None
