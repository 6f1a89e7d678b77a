"""The job-level executor: one load-balanced ipyparallel task per node.

Completions arrive through the done-callbacks of ipyparallel's futures into a
:class:`~flowmill.backend.CompletionQueue` that ``wait`` blocks on, so the driver
sleeps until a task ends. Starts come from the task itself: its first act on the
engine is a data message naming its host and pid, which the client hands to the
task's iopub callbacks (ipyparallel has no public hook for them: its own output
streaming uses the same list). A quick task whose messages all arrived before the
client knew its engine is reported started with its end, from the engine's answer. A task whose engine
died comes back as a ``RemoteError`` named ``EngineError``; it is reported ``lost`` so
the core resubmits it to the remaining engines.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from concurrent import futures
from typing import Any, Sequence

import cloudpickle
import flowmill.backend as api
import ipyparallel
from ipyparallel.error import RemoteError

from ._connect import Connection
from ._engine import PLACE, run_job

_CONTROL_TIMEOUT = 5.0
"""Seconds to wait for engines to confirm an abort or a signal: ``shutdown`` closes the
client right after, which would drop requests still in flight."""


def _engine_of(result: ipyparallel.AsyncResult, error: RemoteError | None, known: dict[str, int]) -> Any:
    """The engine id of a finished task. A task stranded on a dead engine comes back
    from the hub naming only the engine's uuid, which the client already forgot:
    ``known`` remembers the uuids of engines seen alive."""
    metadata = result._metadata[0] if result._metadata else {}
    if metadata.get("engine_id") is not None:
        return metadata["engine_id"]
    info = getattr(error, "engine_info", None) or {}
    if info.get("engine_id") is not None:
        return info["engine_id"]
    uuid = metadata.get("engine_uuid") or info.get("engine_uuid")
    if uuid is None and error is not None:
        match = re.search(r"Engine b?'([^']+)' died", str(error.evalue))
        uuid = match and match.group(1)
    return known.get(uuid, uuid) if uuid else None


def completion_of(job_id: str, result: ipyparallel.AsyncResult, known: dict[str, int]) -> api.Completion:
    """Turn a finished task into what the core needs to know about it."""
    try:
        status = result.get(0)
    except RemoteError as exc:
        engine = _engine_of(result, exc, known)
        details = {"engine_id": engine, "msg_id": result.msg_ids[0], "remote_traceback": exc.render_traceback()}
        if exc.ename == "EngineError":
            reason = f"IPython engine {engine} died while running the node ({exc.evalue})"
        elif exc.ename == "KeyboardInterrupt":
            reason = f"the task was interrupted on IPython engine {engine}"
        else:
            reason = (f"IPython engine {engine} could not run the job: {exc.ename}: {exc.evalue} (are flowmill "
                      "and the node's modules installed where the engines run?)")
        return api.Completion(job_id, "lost", reason, details)
    except ipyparallel.error.TaskAborted:
        return api.Completion(job_id, "lost", "the task was aborted before it ran", {"msg_id": result.msg_ids[0]})
    return api.Completion(job_id, "done", details={"engine_id": _engine_of(result, None, known),
                                                        "host": status["host"], "engine_pid": status["pid"]})


class IPythonExecutor:
    """See the module docstring. ``slots`` keeps ``tasks_per_engine`` tasks per engine
    in flight: enough to hide the controller's round trip, few enough that Ctrl-C has
    little queued work to abort. With a run ``timeout`` it is one per engine, because
    the core starts a node's clock when it is submitted, not when an engine takes it."""

    def __init__(self, connection: Connection, context: api.RunContext, tasks_per_engine: int) -> None:
        self._connection = connection
        self._client = connection.client
        self._view = self._client.load_balanced_view()
        self._view.retries = 0
        self._driver_path = list(sys.path)
        self._tasks: dict[str, ipyparallel.AsyncResult] = {}
        """The current task of each job the core has not heard the end of."""
        self._lock = threading.Lock()
        self._placed: set[str] = set()
        """Message ids of the tasks reported started."""
        self._context = context
        self._known_engines: dict[str, int] = {}
        self._learn_engines()
        self._completions = api.CompletionQueue()
        timeout = getattr(context.run_options, "timeout", None)
        self.slots = len(self._client.ids) * (1 if timeout else tasks_per_engine)

    def _learn_engines(self) -> None:
        if not set(self._client.ids) <= set(self._known_engines.values()):
            self._known_engines.update({uuid: engine for engine, uuid in self._client._engines.items()})

    def submit(self, job: api.Job, options: Any) -> None:
        self._learn_engines()
        result = self._view.apply_async(run_job, cloudpickle.dumps(job), self._driver_path)
        with self._lock:
            self._tasks[job.id] = result
        self._follow_start(job.id, result)
        result.add_done_callback(lambda _future: self._finished(job.id, result))

    def _follow_start(self, job_id: str, result: ipyparallel.AsyncResult) -> None:
        """Report the task started when its engine's data message arrives (on
        ipyparallel's thread), or now if it arrived before the callback was set."""
        metadata = self._client.metadata[result.msg_ids[0]]

        def heard(_message: Any = None) -> None:
            place = metadata["data"].get(PLACE)
            if place is not None and metadata["engine_id"] is not None:
                self._started(job_id, result, metadata["engine_id"], *place)

        result._children[0].iopub_callbacks.append(heard)
        heard()

    def _started(self, job_id: str, result: ipyparallel.AsyncResult, engine: Any, host: str, pid: int) -> None:
        """Report the task's start once, naming its engine, host and pid."""
        with self._lock:
            if result.msg_ids[0] in self._placed:
                return
            self._placed.add(result.msg_ids[0])
        self._context.started(job_id, f"IPython engine {engine} on {api.process_place(pid, host)}")

    def _finished(self, job_id: str, result: ipyparallel.AsyncResult) -> None:
        """A task ended (in ipyparallel's thread): report it unless it was cancelled."""
        with self._lock:
            if self._tasks.get(job_id) is not result:
                return
            del self._tasks[job_id]
        try:
            completion = completion_of(job_id, result, self._known_engines)
            if "engine_pid" in completion.details:
                self._started(job_id, result, completion.details["engine_id"], completion.details["host"],
                              completion.details["engine_pid"])
            self._completions.put(completion)
        except Exception as exc:
            self._completions.fail(exc)

    def wait(self, timeout: float | None) -> Sequence[api.Completion]:
        return self._completions.wait(timeout)

    def alive(self) -> str | None:
        """Why no task can finish any more (every engine unregistered from the
        controller, which it does when an engine dies), or None."""
        if self._client.ids:
            return None
        lost = sorted(set(self._known_engines.values()))
        return (f"every IPython engine of the cluster is gone (engine(s) {', '.join(map(str, lost))} died or were "
                "stopped, and none is left to run the tasks); restart the engines and run again")

    def cancel(self, job_ids: Sequence[str]) -> None:
        """Abort queued tasks; interrupt the engines running the others (the task gets
        a KeyboardInterrupt, the engine survives). Without engines ipyparallel can do
        neither (it raises), and there is nothing running to stop."""
        with self._lock:
            results = {self._tasks.pop(job_id).msg_ids[0] for job_id in job_ids if job_id in self._tasks}
        if not results:
            return
        if not self._client.ids:
            return
        futures.wait([self._client.abort(list(results), block=False)], timeout=_CONTROL_TIMEOUT)
        status = self._client.queue_status(verbose=True)
        engines = [engine for engine, queues in status.items()
                   if isinstance(queues, dict) and results.intersection(queues.get("tasks", ()))]
        if engines:
            futures.wait([self._client.send_signal(signal.SIGINT, targets=engines, block=False)],
                         timeout=_CONTROL_TIMEOUT)

    def shutdown(self) -> None:
        try:
            if self._tasks:
                self.cancel(list(self._tasks))
        finally:
            self._connection.close()
