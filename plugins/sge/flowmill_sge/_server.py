"""The DRMAA session, run in a helper process of its own (see ``_helper``).

Why a process: libdrmaa cannot be loaded into an interpreter that is already running
on glibc systems where its libjemalloc needs static TLS (see ``_locate``), and DRMAA
allows one session per process. The driver starts this module with the right
environment and talks to it over a ``multiprocessing`` Connection on a socket pair:

* requests ``(op, request_id, payload)`` are answered by ``("reply", request_id, ok,
  payload)``, one at a time, in the order they came;
* a waiter thread blocks in ``drmaa_wait`` on any job of the session and sends
  ``("finished", sge_job_id, info)`` the moment one ends, so the driver sleeps until
  something happens instead of polling;
* jobs of an earlier session (re-attached after a driver restart) cannot be waited
  for through DRMAA, so a watcher thread asks for their status every few seconds.

* a scheduler watch (``_outage``) pings the qmaster while jobs are outstanding and
  sends ``("scheduler", event)`` when it stops or starts answering.

A request that keeps failing because the qmaster does not answer, for longer than the
run's ``scheduler_patience``, is answered ``("unreachable", message)``, so that the
driver says so instead of blaming the request.

If the driver disappears (the connection closes without a ``close`` request), every job
of this session is deleted: a killed driver leaves nothing queued.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, TypeVar

import drmaa
from drmaa.errors import (
    DeniedByDrmException,
    DrmCommunicationException,
    ExitTimeoutException,
    InvalidJobException,
    NoActiveSessionException,
    TryLaterException,
)
from flowmill.backend import backoff

from ._outage import SchedulerWatch

T = TypeVar("T")

TRANSIENT = (DrmCommunicationException, TryLaterException)
"""What a restarting qmaster or a communication timeout looks like: worth retrying."""

EXIT_PATIENCE = 5.0
"""Seconds drmaa_exit may take; measured: 30 s after a qmaster restart, waiting for a
connection of its own, while it has nothing left to do for flowmill (jobs are deleted
before, and the qmaster drops a silent client by itself)."""

WATCH_INTERVAL = 2.0
"""Seconds between status queries of re-attached jobs (only those are polled)."""


def _backoff(within: float | None = None) -> Iterator[float]:
    """Delays between attempts at a scheduler that is restarting (0.5 s up to 15 s)."""
    return backoff(first=0.5, most=15.0, within=within)


def with_retries(call: Callable[[], T], patience: float) -> T:
    """Run ``call``, retrying transient scheduler errors with back-off for up to
    ``patience`` seconds."""
    waits = _backoff(within=patience)
    while True:
        try:
            return call()
        except TRANSIENT as exc:
            print(f"flowmill-sge: transient scheduler error, retrying for up to {patience:g}s: {exc}",
                  file=sys.stderr)
            if next(waits, None) is None:
                raise


def describe(info: Any) -> dict[str, Any]:
    """A DRMAA JobInfo as plain data the driver can unpickle without drmaa."""
    usage = info.resourceUsage or {}

    def number(key: str) -> float | None:
        try:
            return float(usage[key])
        except (KeyError, TypeError, ValueError):
            return None

    return {
        "exited": bool(info.hasExited),
        "exit_status": int(info.exitStatus) if info.hasExited else None,
        "signal": str(info.terminatedSignal) if info.hasSignal else None,
        "aborted": bool(info.wasAborted),
        "core_dump": bool(info.hasCoreDump),
        "usage_exit_status": number("exit_status"),
        "wallclock": number("ru_wallclock"),
        "maxvmem": number("maxvmem"),
    }


class Server:
    """One DRMAA session serving one driver."""

    def __init__(self, conn: Connection, patience: float) -> None:
        self.conn = conn
        self.patience = patience
        self.send_lock = threading.Lock()
        self.session = drmaa.Session()
        self.changed = threading.Condition()
        self.outstanding: set[str] = set()
        self.watched: dict[str, str] = {}
        self.ids_by_key: dict[str, str] = {}
        self.closing = False
        self.exited = True
        """drmaa_exit returned (after a qmaster restart it may hang for 30 s: then the
        process ends without it)."""
        self.stop_watching = threading.Event()

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(message)

    def finished(self, job_id: str, info: dict[str, Any]) -> None:
        with self.changed:
            self.outstanding.discard(job_id)
        self.send(("finished", job_id, info))

    # -- requests -------------------------------------------------------------------

    def op_submit(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """Submit jobs in order; ``after`` names earlier keys or SGE ids to hold on.
        Stops at the first job the scheduler refuses and says which."""
        submitted: list[tuple[str, str]] = []
        for request in requests:
            # An array task "N.i" is held on as its whole array N (-hold_jid takes no task ids).
            holds = list(dict.fromkeys(self.ids_by_key.get(ref, ref).split(".")[0] for ref in request["after"]))
            spec = list(request["spec"]) + (["-hold_jid", ",".join(holds)] if holds else [])
            elementwise = list(dict.fromkeys(self.ids_by_key.get(ref, ref).split(".")[0]
                                             for ref in request.get("after_ad", ())))
            spec += ["-hold_jid_ad", ",".join(elementwise)] if elementwise else []
            try:
                job_ids = with_retries(lambda: self._run(request, spec), self.patience)
            except TRANSIENT:
                raise
            except drmaa.errors.DrmaaException as exc:
                return {"submitted": submitted, "refused": request["key"], "error": str(exc)}
            for key, job_id in zip(request.get("keys", [request["key"]]), job_ids):
                self.ids_by_key[key] = job_id
                submitted.append((key, job_id))
        return {"submitted": submitted}

    def _run(self, request: dict[str, Any], spec: list[str]) -> list[str]:
        """Submit one job, or one array of ``len(request["keys"])`` tasks."""
        template = self.session.createJobTemplate()
        try:
            template.remoteCommand = request["command"][0]
            template.args = list(request["command"][1:])
            template.nativeSpecification = " ".join(spec)
            template.jobName = request["name"]
            template.workingDirectory = request["cwd"]
            template.outputPath = ":" + request["stdout"]
            template.errorPath = ":" + request["stderr"]
            template.jobEnvironment = request["env"]
            with self.changed:
                if "keys" in request:
                    job_ids = list(self.session.runBulkJobs(template, 1, len(request["keys"]), 1))
                else:
                    job_ids = [self.session.runJob(template)]
                if not request.get("verify_only"):
                    self.outstanding.update(job_ids)
                    self.changed.notify_all()
            return job_ids
        finally:
            self.session.deleteJobTemplate(template)

    def op_verify(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """Let the qmaster check each specification (``-w v``) without queueing anything."""
        for request in requests:
            try:
                with_retries(lambda: self._run({**request, "verify_only": True}, [*request["spec"], "-w", "v"]),
                             self.patience)
            except DeniedByDrmException as exc:
                return {"refused": request["key"], "error": str(exc)}
        return {}

    def op_control(self, job_ids: list[str]) -> dict[str, Any]:
        for job_id in job_ids:
            try:
                with_retries(lambda: self.session.control(job_id, drmaa.JobControlAction.TERMINATE), self.patience)
            except InvalidJobException:
                pass
        return {}

    def op_force_delete(self, job_ids: list[str]) -> dict[str, Any]:
        """``qdel -f``: forget jobs the qmaster still lists although they ended (their
        end was lost in a qmaster restart), so that jobs held on them are released.
        DRMAA has no forced delete."""
        with self.changed:
            self.outstanding.difference_update(job_ids)
        qdel = shutil.which("qdel")
        if not qdel or not job_ids:
            return {"error": "qdel not found on PATH"} if job_ids else {}
        try:  # wait, as every request does, for a qmaster that is restarting
            with_retries(lambda: self.session.jobStatus(job_ids[0]), self.patience)
        except InvalidJobException:
            pass
        done = subprocess.run([qdel, "-f", *job_ids], capture_output=True, text=True, check=False)
        return {} if done.returncode == 0 else {"error": (done.stderr or done.stdout).strip()[-500:]}

    def op_status(self, job_ids: list[str]) -> dict[str, str]:
        return {job_id: self._status(job_id) for job_id in job_ids}

    def _status(self, job_id: str) -> str:
        try:
            return str(with_retries(lambda: self.session.jobStatus(job_id), self.patience))
        except InvalidJobException:
            return "gone"

    def op_watch(self, job_ids: list[str]) -> dict[str, Any]:
        with self.changed:
            self.watched.update((job_id, job_id) for job_id in job_ids)
        return {}

    # -- threads --------------------------------------------------------------------

    def wait_for_jobs(self) -> None:
        """Block in drmaa_wait on any session job; report each as it ends."""
        waits = _backoff()
        while True:
            with self.changed:
                while not self.outstanding and not self.closing:
                    self.changed.wait()
                if self.closing:
                    return
            try:
                info = self.session.wait(drmaa.Session.JOB_IDS_SESSION_ANY, drmaa.Session.TIMEOUT_WAIT_FOREVER)
            except NoActiveSessionException:
                return
            except ExitTimeoutException:
                continue
            except TRANSIENT as exc:
                print(f"flowmill-sge: transient error while waiting, retrying: {exc}", file=sys.stderr)
                next(waits)
                continue
            except Exception:
                # A job deleted before it started ends the wait with "no usage information"
                # and without its id: find which ones the session no longer knows.
                if not self.closing:
                    self._reap_vanished()
                continue
            waits = _backoff()
            self.finished(str(info.jobId), describe(info))

    def _reap_vanished(self) -> None:
        with self.changed:
            candidates = list(self.outstanding)
        for job_id in candidates:
            if self._status(job_id) == "gone":
                self.finished(job_id, {"exited": False, "exit_status": None, "signal": None, "aborted": True,
                                       "never_started": True})

    def chased(self, job_id: str, status: str) -> None:
        """A job the qmaster no longer runs although drmaa_wait never reported it."""
        with self.changed:
            if job_id not in self.outstanding:
                return
        self.finished(job_id, {"foreign": True, "status": status, "chased": True})

    def watch_scheduler(self) -> None:
        def outstanding() -> list[str]:
            with self.changed:
                return [*self.outstanding, *self.watched]

        def notify(event: dict[str, Any]) -> None:
            if event["state"] == "gave_up":
                self.patience = 0.0  # the run stops: what is asked while it does is tried once
            self.send(("scheduler", event))

        SchedulerWatch(outstanding=outstanding, status=self.session.jobStatus, ended=self.chased, notify=notify,
                       transient=TRANSIENT,
                       patience=self.patience, stop=self.stop_watching).run()

    def watch_foreign(self) -> None:
        while not self.stop_watching.wait(WATCH_INTERVAL):
            with self.changed:
                watched = list(self.watched)
            for job_id in watched:
                status = self._status(job_id)
                if status in ("gone", "done", "failed", "undetermined"):
                    with self.changed:
                        self.watched.pop(job_id, None)
                    self.send(("finished", job_id, {"foreign": True, "status": status}))

    # -- life cycle -----------------------------------------------------------------

    def close(self, delete: bool) -> None:
        self.stop_watching.set()
        if delete:
            try:
                with_retries(lambda: self.session.control(drmaa.Session.JOB_IDS_SESSION_ALL,
                                                          drmaa.JobControlAction.TERMINATE), self.patience)
            except drmaa.errors.DrmaaException as exc:
                print(f"flowmill-sge: deleting the session's jobs failed: {exc}", file=sys.stderr)
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        ending = threading.Thread(target=self.session.exit, name="drmaa-exit", daemon=True)
        ending.start()
        ending.join(EXIT_PATIENCE)
        self.exited = not ending.is_alive()

    def serve(self) -> None:
        try:
            with_retries(self.session.initialize, self.patience)
        except Exception as exc:
            self.send(("failed", f"{type(exc).__name__}: {exc}"))
            return
        self.send(("ready", {"contact": self.session.contact, "drms": str(self.session.drmsInfo)}))
        threading.Thread(target=self.wait_for_jobs, name="drmaa-wait", daemon=True).start()
        threading.Thread(target=self.watch_foreign, name="drmaa-watch", daemon=True).start()
        threading.Thread(target=self.watch_scheduler, name="drmaa-ping", daemon=True).start()
        handlers = {"submit": self.op_submit, "verify": self.op_verify, "control": self.op_control,
                    "status": self.op_status, "watch": self.op_watch, "force_delete": self.op_force_delete}
        while True:
            try:
                op, request_id, payload = self.conn.recv()
            except (EOFError, OSError):
                self.close(delete=True)
                return
            if op == "close":
                self.close(delete=payload["delete"])
                self.send(("reply", request_id, True, {}))
                if not self.exited:
                    sys.stderr.flush()
                    os._exit(0)  # libdrmaa's exit handlers would wait for the hung drmaa_exit
                return
            try:
                self.send(("reply", request_id, True, handlers[op](payload)))
            except TRANSIENT as exc:
                self.send(("reply", request_id, False, ("unreachable", str(exc))))
            except Exception as exc:
                self.send(("reply", request_id, False, f"{type(exc).__name__}: {exc}"))
