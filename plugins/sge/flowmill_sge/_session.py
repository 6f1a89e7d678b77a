"""The driver's handle on the DRMAA helper process (``_helper`` / ``_server``).

The helper is started with the environment libdrmaa needs, so a plain ``python
script.py`` works; requests go over a socket pair and are answered in order, and job
completions arrive unasked on a reader thread, which hands them to the executor.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any, Callable

import flowmill.backend as api

from ._locate import Installation

log = logging.getLogger("flowmill.sge")

FinishedCallback = Callable[[str, "dict[str, Any]"], None]
SchedulerCallback = Callable[["dict[str, Any]"], None]

START_TIMEOUT = 120.0
"""Seconds to wait for the helper to load libdrmaa and open a session (a qmaster that
is restarting answers after 10-20 s; transient errors are retried within this)."""


class SessionError(api.PluginError):
    """The DRMAA session could not be opened or died."""


class SchedulerUnreachable(SessionError):
    """A request kept failing because the qmaster did not answer, for longer than the
    run's ``scheduler_patience``."""


class DrmaaSession:
    """One DRMAA session in a helper process, for the lifetime of one run."""

    def __init__(self, installation: Installation, on_finished: FinishedCallback,
                 on_dead: Callable[[str], None], *, patience: float,
                 on_scheduler: SchedulerCallback = lambda event: None) -> None:
        self._on_finished = on_finished
        self._on_dead = on_dead
        self._on_scheduler = on_scheduler
        self._unreachable = (f"the Grid Engine qmaster of {installation.cell_id} has not answered for longer "
                             f"than the run option scheduler_patience={patience:g}s")
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._dead: str | None = None
        self._closing = False
        self._stderr = tempfile.TemporaryFile(prefix="flowmill-sge-helper-")
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "flowmill_sge._helper", str(theirs.fileno()), str(patience)],
            pass_fds=[theirs.fileno()], env=installation.helper_environment(os.environ),
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr, start_new_session=True)
        theirs.close()
        self._conn = Connection(ours.detach())
        self.info = self._handshake(installation)
        self._reader = threading.Thread(target=self._read, name="flowmill-sge-reader", daemon=True)
        self._reader.start()

    def _helper_output(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()[-2000:]

    def _handshake(self, installation: Installation) -> dict[str, Any]:
        try:
            if not self._conn.poll(START_TIMEOUT):
                self._process.kill()
                raise SessionError(f"sge backend: the DRMAA session did not open within {START_TIMEOUT:.0f}s; "
                                   "is sge_qmaster reachable from this host (qstat works)?")
            kind, detail = self._conn.recv()
        except (EOFError, OSError):
            kind, detail = "failed", f"the DRMAA helper process exited: {self._helper_output() or 'no output'}"
        if kind == "ready":
            return detail
        self._end_process()
        hint = ("is sge_qmaster running and this host a submit host? Start it (for a single-host test cell: "
                "scripts/sge/start.sh) and check that `qstat` works")
        if "DRMAA library" in detail:
            hint = (f"check that {installation.library} is the libdrmaa of your Grid Engine "
                    "(Debian: apt-get install gridengine-drmaa1.0) or set DRMAA_LIBRARY_PATH")
        raise SessionError(f"sge backend: cannot open a DRMAA session (SGE_ROOT={installation.sge_root}, "
                           f"SGE_CELL={installation.sge_cell}, library {installation.library}): {detail}. {hint}")

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self._died("the DRMAA helper process ended" if self._closing else
                           f"the DRMAA helper process ended: {self._helper_output() or 'no output'}")
                return
            if message[0] == "finished":
                self._on_finished(message[1], message[2])
                continue
            if message[0] == "scheduler":
                self._on_scheduler(message[1])
                continue
            _, request_id, ok, payload = message
            with self._lock:
                future = self._pending.pop(request_id)
            if ok:
                future.set_result(payload)
            elif isinstance(payload, tuple) and payload[0] == "unreachable":
                future.set_exception(SchedulerUnreachable(
                    f"sge backend: {self._unreachable} ({payload[1]}); the run stops. Check that sge_qmaster "
                    "runs (qstat), or raise the run option scheduler_patience to wait out longer outages"))
            else:
                future.set_exception(SessionError(f"sge backend: the DRMAA session failed: {payload}"))

    def _died(self, why: str) -> None:
        with self._lock:
            closing = self._closing
            self._dead = why
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(SessionError(f"sge backend: {why}"))
        if not closing:
            self._on_dead(why)

    @property
    def alive(self) -> bool:
        return self._dead is None

    def send(self, op: str, payload: Any) -> "Future[Any]":
        """Send one request; its answer arrives in the returned future (requests are
        answered in the order they were sent)."""
        future: Future[Any] = Future()
        with self._lock:
            if self._dead is not None:
                raise SessionError(f"sge backend: {self._dead}")
            request_id = next(self._ids)
            self._pending[request_id] = future
            self._conn.send((op, request_id, payload))
        return future

    def request(self, op: str, payload: Any) -> Any:
        """Send one request and block until the helper answered it."""
        return self.send(op, payload).result()

    def close(self, *, delete: bool) -> None:
        """End the session; ``delete`` removes every job it submitted that is still
        queued or running (``False`` leaves them to finish, for ``wait=False``)."""
        self._closing = True
        try:
            if self.alive:
                self.request("close", {"delete": delete})
        finally:
            self._end_process()
            self._reader.join(timeout=10)
            self._conn.close()
            self._stderr.close()

    def _end_process(self, patience: float = 30.0) -> None:
        """Wait for the helper to exit (libdrmaa's exit handlers may hang on a
        scheduler that stopped answering), killing it after ``patience`` seconds."""
        try:
            self._process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            log.warning("the DRMAA helper (pid %d) did not exit; killing it", self._process.pid)
            self._process.kill()
            self._process.wait()
