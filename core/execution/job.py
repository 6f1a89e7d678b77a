"""Jobs: one concrete node instance, self-contained and picklable.

A job carries its task, its static inputs, and references to the upstream results it
reads from the store, so that it runs the same in the driver, on an IPython engine,
inside a Ruffus task, or as ``python -m flowmill.worker JOBFILE`` on a batch host that
sees the shared file system.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

import cloudpickle

from ..contract.resources import Resources
from ..contract.states import NodeState
from ..store import results as store
from ..store.crash import crash_record, exception_record
from ..store.hashing import HashMethod, value_digest

if TYPE_CHECKING:
    from ..workflow.task import Task

log = logging.getLogger("flowmill")

class Ref(NamedTuple):
    """An input read from an upstream job's stored output."""

    job_id: str
    output: str
    dir: str


class UpstreamMissing(Exception):
    """An upstream result that should exist is not in the store."""


class Job:
    """One unit of work; see the module docstring.

    ``hash`` is the cache key when the driver could compute it before dispatch (all
    upstream results known); otherwise the job computes it itself when it runs.
    ``token`` identifies the run that submitted it, so the driver can tell a result
    this run produced from one it found cached.
    """

    __slots__ = ("id", "dir", "task", "inputs", "refs", "version", "hash_method", "resources",
                 "plugin_args", "hash", "token", "group")

    def __init__(self, id: str, dir: Path, task: Task, inputs: dict[str, Any],
                 refs: dict[str, "Ref | list[Ref]"], *, version: str | None = None,
                 hash_method: HashMethod = "content", resources: Resources | None = None,
                 plugin_args: dict[str, Any] | None = None, group: str | None = None) -> None:
        self.id = id
        self.dir = Path(dir)
        self.task = task
        self.inputs = inputs
        self.refs = refs
        self.version = version
        self.hash_method = hash_method
        self.resources = resources or Resources()
        self.plugin_args = plugin_args or {}
        self.hash: str | None = None
        self.token: str | None = None
        self.group = group

    def __getstate__(self) -> dict[str, Any]:
        return {slot: getattr(self, slot) for slot in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for slot, value in state.items():
            setattr(self, slot, value)

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def compute_hash(self, upstream_digest: Callable[[Ref], str]) -> str:
        """The cache key: the task's code, the version, every input value, and the
        digests of the upstream outputs this job reads."""
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{self.task.digest()}|{self.version}|{self.hash_method}|".encode())
        for name in sorted(self.inputs):
            h.update(f"{name}={value_digest(self.inputs[name], self.hash_method)};".encode())
        for name in sorted(self.refs):
            ref = self.refs[name]
            digest = ",".join(upstream_digest(r) for r in ref) if isinstance(ref, list) else upstream_digest(ref)
            h.update(f"{name}<{digest};".encode())
        return h.hexdigest()

    def fingerprint(self) -> str:
        """What the job computes, independent of upstream values: its code, version,
        inputs and which upstream outputs it reads. A scheduler's record of a job in
        flight is adopted by a later run only when this matches, so an edited node is
        never answered by a stale job."""
        return self.compute_hash(lambda ref: f"{ref.job_id}.{ref.output}")

    def input_values(self) -> dict[str, Any]:
        values = dict(self.inputs)
        loaded: dict[str, dict[str, Any]] = {}

        def load(ref: Ref) -> Any:
            if ref.dir not in loaded:
                try:
                    loaded[ref.dir] = store.read_outputs(Path(ref.dir))
                except FileNotFoundError:
                    raise UpstreamMissing(f"the result of upstream node {ref.job_id!r} is missing "
                                          f"from {ref.dir}") from None
            return loaded[ref.dir][ref.output]

        for name, ref in self.refs.items():
            values[name] = [load(r) for r in ref] if isinstance(ref, list) else load(ref)
        return values

    def _stored_digest(self, ref: Ref) -> str:
        header = store.read_header(Path(ref.dir))
        if header is None:
            raise UpstreamMissing(f"the result of upstream node {ref.job_id!r} is missing from {ref.dir}")
        return header["digests"][ref.output]

    def execute(self) -> NodeState:
        """Run the job here and store its result or its crash file; never raises for
        a failure of the node's own code (``sys.exit`` included: the node failed, not
        the process running it; KeyboardInterrupt still interrupts), nor for a store that cannot take its result
        (a read-only directory, a full disk: the node fails, its crash record naming
        the path goes wherever :func:`~flowmill.store.results.write_crash` can put it)."""
        values: dict[str, Any] | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            store.clear_crash(self.dir)
            if self.hash is None:
                self.hash = self.compute_hash(self._stored_digest)
                if store.valid_header(self.dir, self.hash) is not None:
                    return NodeState.CACHED
            values = self.input_values()
            started = time.time()
            outputs = self.task.run(values, self.dir)
            header = {
                "hash": self.hash,
                "digests": {name: value_digest(value, self.hash_method) for name, value in outputs.items()},
                "token": self.token,
                "host": socket.gethostname(),
                "started": started,
                "duration": time.time() - started,
            }
            store.write_result(self.dir, header, outputs)
            return NodeState.RAN
        except (Exception, SystemExit) as exc:
            store.write_crash(self.dir, exception_record(node=self.id, node_dir=self.dir,
                                                         task=self.task.describe(), exc=exc,
                                                         inputs=values if values is not None else self.inputs))
            self._write_for_rerun()
            return NodeState.FAILED

    def _write_for_rerun(self) -> None:
        """Save the job file the crash record's rerun command names, if the node
        directory takes it (the crash record already says when it does not)."""
        try:
            self.write()
        except OSError as exc:
            log.warning("node %s: cannot save its job file for a rerun: %s", self.id, exc)

    def write(self) -> Path:
        """Save the job as ``job.pkl`` in its node dir (what the worker runs)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / store.JOB
        store.atomic_write(path, cloudpickle.dumps(self))
        return path

    def command(self, python: str = sys.executable) -> list[str]:
        """The command line that runs this job's file on a host seeing the store."""
        return [python, "-m", "flowmill.worker", str(self.dir / store.JOB)]

    def crash(self, error: str, error_type: str, details: Mapping[str, Any]) -> Path:
        """Write the crash file of a job that could not report for itself, and its
        job file for the crash record's rerun command."""
        self._write_for_rerun()
        return store.write_crash(self.dir, crash_record(node=self.id, node_dir=self.dir,
                                                        task=self.task.describe(), error=error,
                                                        error_type=error_type, inputs=self.inputs,
                                                        details=details))


def load_job(path: str | os.PathLike[str]) -> Job:
    with open(path, "rb") as handle:
        return cloudpickle.load(handle)
