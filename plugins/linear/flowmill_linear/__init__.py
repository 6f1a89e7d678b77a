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

import flowmill

__all__ = ["LinearExecutor", "LinearOptions"]


@dataclass(frozen=True)
class LinearOptions:
    """The linear backend takes no options of its own."""


BACKEND = flowmill.Backend(
    name="linear",
    description="runs nodes one after another in the driver process (the default)",
    contract=1,
    options=LinearOptions,
    capabilities=flowmill.Capabilities(),
)


class LinearExecutor:
    """Job-level executor: ``submit`` queues, ``wait`` runs the next job in place."""

    slots = 1

    def __init__(self, context: flowmill.RunContext) -> None:
        self._context = context
        self._queue: deque[flowmill.Job] = deque()

    def submit(self, job: flowmill.Job, options: Any) -> None:
        self._queue.append(job)

    def wait(self, timeout: float | None) -> Sequence[flowmill.Completion]:
        if not self._queue:
            return []
        job = self._queue.popleft()
        self._context.started(job.id)
        job.execute()
        return [flowmill.Completion(job.id)]

    def cancel(self, job_ids: Sequence[str]) -> None:
        dropped = set(job_ids)
        self._queue = deque(job for job in self._queue if job.id not in dropped)

    def shutdown(self) -> None:
        self._queue.clear()


@flowmill.hookimpl
def flowmill_backends() -> list[flowmill.Backend]:
    return [BACKEND]


@flowmill.hookimpl
def flowmill_make_executor(backend: flowmill.Backend, options: Any,
                           context: flowmill.RunContext) -> LinearExecutor | None:
    return LinearExecutor(context) if backend.name == "linear" else None
