"""One run's dealings with Grid Engine, shared by the job-level and the graph
executor: submitting (with refusals turned into errors that name the node and the
option), re-attaching to jobs recorded by an earlier run, deleting, turning each
finished job into a completion for whoever waits, and riding out a qmaster outage
(warnings while it lasts, results Grid Engine never reported settled from the store,
the run failed once the outage outlasts ``scheduler_patience``).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import flowmill.backend as api
from flowmill.backend import atomic_write

from . import _records as records
from . import _spec as spec
from ._limits import Limits
from ._locate import Installation
from ._options import SGEOptions
from ._outcome import judge, judge_from_store
from ._session import DrmaaSession
from ._starts import StartWatch
from ._unreported import SWEEP_INTERVAL, UnreportedResults

T = TypeVar("T")
Finished = Callable[[api.Completion], None]
Failed = Callable[[api.PluginError], None]

SUBMIT_CHUNK = 50
"""Submissions per message to the DRMAA helper: small enough that the helper starts
at once and the driver's own work overlaps with it, large enough that messages cost
nothing next to the qmaster's ~1 ms per job."""

_ALIVE = {"queued_active", "system_on_hold", "user_on_hold", "user_system_on_hold", "running",
          "system_suspended", "user_suspended", "user_system_suspended"}
"""DRMAA states of a job that has not ended yet."""


class Cluster:
    """The DRMAA session of one run and the jobs it knows, by Grid Engine id."""

    def __init__(self, installation: Installation, options: SGEOptions, context: api.RunContext,
                 on_finished: Finished, on_failed: Failed) -> None:
        self.cell = installation.cell_id
        self.token = context.run_id
        self.time_limit = context.run_options.timeout
        """The run's ``timeout``, which every job gets as ``-l h_rt``."""
        self.workdir = context.workflow_dir
        self.log = context.log
        self.env, rest = spec.job_environment()
        self.env_file = spec.environment_file(context.workflow_dir, rest)
        if not self.env_file.exists():
            atomic_write(self.env_file, json.dumps(rest, sort_keys=True).encode())
        self._on_finished = on_finished
        self._on_failed = on_failed
        self._patience = options.scheduler_patience
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[api.Job, str | None]] = {}
        self._sge_ids: dict[str, str] = {}
        self._early: dict[str, dict[str, Any]] = {}
        self._ended: set[str] = set()
        """Jobs already settled: a second report of their end (a late drmaa_wait after
        the store or a status poll settled them) is dropped."""
        self._limits: dict[str, Limits] = {}
        """The h_vmem and h_rt each node's job was submitted with, to name the one that killed it."""
        self._verified: set[tuple[str, ...]] = set()
        self._closed = threading.Event()
        self._starts = StartWatch(context.started)
        self.session = DrmaaSession(
            installation, self._finished, lambda why: on_failed(api.PluginError(f"sge backend: lost the DRMAA "
                                                                                f"session: {why}")),
            patience=options.scheduler_patience, on_scheduler=self._scheduler)
        threading.Thread(target=self._sweep, name="flowmill-sge-sweep", daemon=True).start()

    def sge_id(self, job_id: str) -> str | None:
        with self._lock:
            return self._sge_ids.get(job_id)

    def _track(self, job: api.Job, sge_id: str, token: str | None) -> None:
        with self._lock:
            self._jobs[sge_id] = (job, token)
            self._sge_ids[job.id] = sge_id
            early = self._early.pop(sge_id, None)
        if early is not None:
            self._finished(sge_id, early)

    def _finished(self, sge_id: str, info: dict[str, Any]) -> None:
        """Called on the session's reader thread for every job that ended. A job of a
        large batch may end before the batch's reply arrived: kept until tracked."""
        with self._lock:
            if sge_id in self._ended:
                return
            entry = self._jobs.pop(sge_id, None)
            if entry is None:
                self._early[sge_id] = info
                return
            self._ended.add(sge_id)
            if self._sge_ids.get(entry[0].id) == sge_id:
                del self._sge_ids[entry[0].id]
        job, token = entry
        records.remove(job.dir)
        if info.get("foreign"):
            self._on_finished(judge_from_store(job, sge_id, token, info["status"], chased=info.get("chased", False)))
        else:
            self._on_finished(judge(job, sge_id, info, self.time_limit, self._limits.get(job.id, Limits())))

    def _in_flight(self) -> int:
        with self._lock:
            return len(self._jobs)

    def _scheduler(self, event: dict[str, Any]) -> None:
        """What the helper's qmaster watch saw (see ``_outage``), told to the user."""
        where = f"the Grid Engine qmaster of {self.cell}"
        if event["state"] == "down":
            self.log.warning("%s has not answered for %.0f s; retrying DRMAA calls, %d job(s) of this run go on "
                             "under sge_execd", where, event["for"], self._in_flight())
        elif event["state"] == "up":
            self.log.warning("%s answers again after %.0f s; checking on the %d job(s) of this run in flight",
                             where, event["after"], self._in_flight())
        else:
            self._on_failed(api.PluginError(
                f"sge backend: {where} has not answered for {event['for']:.0f} s, longer than the run option "
                f"scheduler_patience={self._patience:g}s; the run stops. {self._in_flight()} job(s) of this run "
                "may go on under sge_execd: check with qstat once the qmaster is back, or raise "
                "scheduler_patience to wait out longer outages"))

    def _sweep(self) -> None:
        """Every few seconds, report the jobs whose node started (see ``_starts``), and
        settle the jobs whose result of this run has waited too long for Grid Engine
        to report their end (see ``_unreported``), ``qdel -f``-ing them so that the
        qmaster forgets them and releases jobs held on them."""
        unreported = UnreportedResults()
        while not self._closed.wait(SWEEP_INTERVAL):
            with self._lock:
                tracked = dict(self._jobs)
            self._starts.sweep(tracked)
            due = unreported.due([(sge_id, job.dir, token) for sge_id, (job, token) in tracked.items()])
            if not due:
                continue
            self.log.warning("Grid Engine did not report the end of %d job(s) whose result is written (%s); "
                             "taking the result from the store", len(due), ", ".join(due[:5]))
            for sge_id in due:
                self._finished(sge_id, {"from_store": True})
            if self.session.alive:
                self.session.send("force_delete", due)

    def verify(self, checks: Sequence[tuple[str, list[str]]]) -> None:
        """Let the qmaster judge native specifications (``-w v``) before anything is
        queued; ``checks`` pairs what to blame in the error with the tokens. Each
        specification is judged once per run (a round trip to the qmaster each)."""
        fresh = {tuple(tokens): where for where, tokens in checks if tuple(tokens) not in self._verified}
        if not fresh:
            return
        requests = [{"key": where, "name": "fm.verify", "command": ["/bin/true"], "spec": list(tokens),
                     "cwd": str(self.workdir), "stdout": "/dev/null", "stderr": "/dev/null", "env": {}}
                    for tokens, where in fresh.items()]
        answer = self.session.request("verify", requests)
        if "refused" in answer:
            raise api.PluginError(f"sge backend: {answer['refused']}: Grid Engine refuses the job "
                                       f"({answer['error']}); fix the option and run again. Nothing was "
                                       "submitted")
        self._verified.update(fresh)

    def verify_run_options(self, options: SGEOptions) -> None:
        tokens = ["-b", "y", *spec.split_qsub_args(options.qsub_args, "the run's options")]
        self.verify([(f"the run's qsub_args={options.qsub_args!r}", tokens)])

    def submit(self, jobs: Sequence[api.Job], requests: Iterable[dict[str, Any]],
               options: Mapping[str, SGEOptions]) -> dict[str, str]:
        """Submit in order; on a refusal delete what this call submitted and raise an
        error naming the node and its qsub_args. ``requests`` may be a generator: it is
        consumed a chunk at a time, so the driver prepares the next chunk (writes its
        job files) while the helper submits this one, and records what the helper
        submitted while it submits the next."""
        by_key = {job.id: job for job in jobs}
        submitted: dict[str, str] = {}
        refusals: list[dict[str, Any]] = []
        in_flight: deque[Future[Any]] = deque()
        for chunk in _chunks(self._noting_limits(requests), SUBMIT_CHUNK):
            in_flight.append(self.session.send("submit", chunk))
            while len(in_flight) > 1 or (in_flight and in_flight[0].done()):
                refusals += self._record(in_flight.popleft().result(), by_key, submitted)
            if refusals:
                break
        while in_flight:
            refusals += self._record(in_flight.popleft().result(), by_key, submitted)
        if refusals:
            self.delete(list(submitted.values()))
            node = refusals[0]["refused"]
            raise api.PluginError(
                f"sge backend: node {node!r}: Grid Engine refused its job ({refusals[0]['error']}). Check its "
                f"qsub_args={options[node].qsub_args!r} (the run's qsub_args plus the node's plugin_args) and "
                "node.resources; the jobs of this run were deleted")
        return submitted

    def _noting_limits(self, requests: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for request in requests:
            limits = Limits.of(request["spec"])
            for key in request.get("keys", [request["key"]]):
                self._limits[key] = limits
            yield request

    def _record(self, answer: dict[str, Any], by_key: Mapping[str, api.Job],
                submitted: dict[str, str]) -> list[dict[str, Any]]:
        """Journal and track what one chunk submitted; returns its refusal, if any."""
        for key, sge_id in answer["submitted"]:
            records.write(by_key[key], sge_id, self.cell, self.token)
            self._track(by_key[key], sge_id, self.token)
            submitted[key] = sge_id
        return [answer] if "refused" in answer else []

    def adopt(self, jobs: Iterable[api.Job],
              may_adopt: Callable[[api.Job, Mapping[str, Any]], bool]) -> dict[str, tuple[str, str | None]]:
        """Re-attach to jobs an earlier run recorded and that still run the same
        computation (and that ``may_adopt(job, adopted so far)`` accepts); delete
        recorded jobs that are stale. Returns node id -> (SGE id, token of its result)."""
        found = [(job, record) for job in jobs if (record := records.read(job.dir)) is not None]
        if not found:
            return {}
        mine = [(job, record) for job, record in found if record.get("cell") == self.cell]
        status = self.session.request("status", [record["sge_job_id"] for _, record in mine]) if mine else {}
        adopted: dict[str, tuple[str, str | None]] = {}
        stale: list[str] = []
        for job, record in found:
            sge_id = record["sge_job_id"]
            if status.get(sge_id) not in _ALIVE:
                records.remove(job.dir)
            elif record.get("fingerprint") == job.fingerprint() and may_adopt(job, adopted):
                adopted[job.id] = (sge_id, record.get("token"))
                self._track(job, sge_id, record.get("token"))
            else:
                stale.append(sge_id)
                records.remove(job.dir)
        if stale:
            self.log.info("deleting %d Grid Engine job(s) of an earlier run that compute outdated nodes", len(stale))
            self.session.request("control", stale)
        if adopted:
            self.log.info("re-attached to %d Grid Engine job(s) of an earlier run", len(adopted))
            self.session.request("watch", [sge_id for sge_id, _ in adopted.values()])
        return adopted

    def delete(self, sge_ids: Sequence[str]) -> None:
        """Delete jobs and forget them: their ends are not reported."""
        with self._lock:
            for sge_id in sge_ids:
                entry = self._jobs.pop(sge_id, None)
                if entry is not None:
                    records.remove(entry[0].dir)
                    if self._sge_ids.get(entry[0].id) == sge_id:
                        del self._sge_ids[entry[0].id]
        if sge_ids and self.session.alive:
            self.session.request("control", list(sge_ids))

    def cancel(self, job_ids: Iterable[str]) -> None:
        """Delete the jobs of these nodes, queued or running, and forget them."""
        self.delete([sge_id for job_id in job_ids if (sge_id := self.sge_id(job_id)) is not None])

    def close(self, *, keep_jobs: bool = False) -> None:
        """End the session; every job of this run still queued or running is deleted
        unless ``keep_jobs`` (``wait=False``: they are the run's pending results)."""
        self._closed.set()
        with self._lock:
            left = [job for job, _ in self._jobs.values()]
        if not keep_jobs:
            for job in left:
                records.remove(job.dir)
        self.session.close(delete=not keep_jobs)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
