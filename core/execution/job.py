"""Jobs: one concrete node instance, self-contained and picklable.

A job carries its task, its static inputs, and references to the upstream results it
reads from the store, so that it runs the same in the driver, on an IPython engine,
inside a Ruffus task, or as ``python -m flowmill.worker JOBFILE`` on a batch host that
sees the shared file system.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

import cloudpickle

from ..contract.resources import Resources
from ..contract.states import NodeState
from ..store import results as store
from ..store.crash import crash_record, exception_record
from ..store.filestate import changed_file, record_files
from ..store import libraries
from ..store.hashing import HashMethod, digest_bytes, value_digest
from ..store.locks import node_lock, start_running
from . import reasons
from .usage import Usage

if TYPE_CHECKING:
    from ..workflow.task import Task

log = logging.getLogger("flowmill")
DAMAGED = store.RESULT + ".damaged"
"""Where a damaged upstream result found while loading inputs is set aside."""


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
    this run produced from one it found cached. ``why`` says why it runs (set where
    the cache said no), and lands in its result header. ``in_driver``: a job-level run
    executes it in the driver instead of submitting it (nipype's ``run_without_submitting``).
    ``cache_libraries``: the run option; the versions of the libraries the task reaches
    are then recorded with its result and must match for a reuse (kept beside the key,
    outside its hash: see :mod:`flowmill.store.libraries`).
    """

    __slots__ = ("id", "dir", "task", "inputs", "refs", "version", "hash_method", "resources",
                 "plugin_args", "hash", "token", "group", "key", "why", "in_driver", "cache_libraries")

    def __init__(self, id: str, dir: Path, task: Task, inputs: dict[str, Any],
                 refs: dict[str, "Ref | list[Ref]"], *, version: str | None = None,
                 hash_method: HashMethod = "content", resources: Resources | None = None,
                 plugin_args: dict[str, Any] | None = None, group: str | None = None,
                 in_driver: bool = False, cache_libraries: bool = False) -> None:
        self.id = id
        self.dir = dir if isinstance(dir, Path) else Path(dir)  # Path(a Path) parses it again: 3.5 us a job
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
        self.key: dict[str, str] | None = None
        self.why: str | None = None
        self.in_driver = in_driver
        self.cache_libraries = cache_libraries

    def __getstate__(self) -> dict[str, Any]:
        return {slot: getattr(self, slot) for slot in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for slot, value in state.items():
            setattr(self, slot, value)

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def key_parts(self, upstream_digest: Callable[[Ref], str]) -> dict[str, str]:
        """What the cache key is made of, part by part (kept in the result header, so a
        later run can say which part changed): the task's code, the version, every
        input value, and the digests of the upstream outputs this job reads."""
        parts = {reasons.CODE: self.task.digest(), reasons.VERSION: str(self.version),
                 reasons.HASH_METHOD: self.hash_method}
        for name, value in self.inputs.items():
            parts[reasons.INPUT + name] = value_digest(value, self.hash_method)
        for name, ref in self.refs.items():
            parts[reasons.UPSTREAM + name] = (digest_bytes(",".join(upstream_digest(r) for r in ref).encode())
                                          if isinstance(ref, list) else upstream_digest(ref))
        return parts

    def compute_hash(self, upstream_digest: Callable[[Ref], str]) -> str:
        """The cache key (see :meth:`key_parts`)."""
        return _key_hash(self.key_parts(upstream_digest))

    def settle_key(self, upstream_digest: Callable[[Ref], str]) -> None:
        """Compute this job's key (``hash``, and its parts for the result header)."""
        self.key = self.key_parts(upstream_digest)
        self.hash = _key_hash(self.key)

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
                except store.DamagedResult as exc:
                    _set_aside(Path(ref.dir))
                    raise UpstreamMissing(f"the result of upstream node {ref.job_id!r} was damaged after it was "
                                          f"checked ({exc.reason}); it is set aside as {DAMAGED}, so the next "
                                          "run recomputes it") from None
            return loaded[ref.dir][ref.output]

        for name, ref in self.refs.items():
            values[name] = [load(r) for r in ref] if isinstance(ref, list) else load(ref)
        return values

    def reusable(self) -> dict[str, Any] | None:
        """The header of this job's stored result if it can be reused as it is: same
        key, undamaged, and every file its outputs name unchanged. Otherwise None, with
        ``why`` saying what differs; a damaged result is also a warning naming the node."""
        try:
            header = store.load_header(self.dir)
        except store.DamagedResult as exc:
            if not exc.outdated:
                log.warning("node %s: %s; it is recomputed", self.id, exc)
            self.why = f"its stored result {'was damaged' if not exc.outdated else 'is outdated'} ({exc.reason})"
            return None
        if header is None:
            self.why = reasons.NO_RESULT
            return None
        if header["hash"] != self.hash:
            self.why = reasons.key_change(header["key"], self.key or {}, self._sources())
            return None
        self.why = self._stale(header)
        return header if self.why is None else None

    def _stale(self, header: Mapping[str, Any]) -> str | None:
        """Why a result stored under this job's key is not reused as it is: a file its
        outputs name changed, or (``cache_libraries``) a library version; else None."""
        changed = changed_file(header["files"], self.hash_method)
        if changed is None and self.cache_libraries:
            return reasons.library_change(header.get("libraries"), self._library_versions())
        return changed

    def _library_versions(self) -> dict[str, str]:
        return libraries.versions(libraries.libraries_of(self.task))

    def _sources(self) -> dict[str, str]:
        return {name: f"{ref.job_id}.{ref.output}" if isinstance(ref, Ref) else f"of {len(ref)} upstream nodes"
                for name, ref in self.refs.items()}

    def _stored_digest(self, ref: Ref) -> str:
        header = store.read_header(Path(ref.dir))
        if header is None:
            raise UpstreamMissing(f"the result of upstream node {ref.job_id!r} is missing from {ref.dir}")
        return header["digests"][ref.output]

    def execute(self) -> NodeState:
        """Run the job here and store its result or its crash file; never raises for
        a failure of the node's own code (``sys.exit`` included: the node failed, not
        the process running it; KeyboardInterrupt still interrupts), nor for a store
        that cannot take its result (a read-only directory, a full disk: the node
        fails, its crash record naming the path goes wherever
        :func:`~flowmill.store.results.write_crash` can put it). It holds its node's
        lock while it looks at the store and runs, so a second driver's job for the
        node waits, then reuses this one's result."""
        values: dict[str, Any] | None = None
        usage: Usage | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with node_lock(self.dir, self.id):
                store.clear_crash(self.dir)
                if self.hash is None:
                    self.settle_key(self._stored_digest)
                    if self.reusable() is not None:
                        return NodeState.CACHED
                elif self._made_meanwhile():
                    return NodeState.CACHED
                values = self.input_values()
                usage = Usage()
                self._run(values, usage)
                return NodeState.RAN
        except (Exception, SystemExit) as exc:
            record = exception_record(node=self.id, node_dir=self.dir, task=self.task.describe(), exc=exc,
                                      inputs=values if values is not None else self.inputs)
            if usage is not None:
                record["usage"] = usage.report()
            store.write_crash(self.dir, record)
            self._write_for_rerun()
            return NodeState.FAILED

    def _run(self, values: dict[str, Any], usage: Usage) -> None:
        running = start_running(self.dir, self.id, self.token)
        try:
            outputs = self.task.run(values, self.dir)
            header = {
                "hash": self.hash,
                "digests": {name: value_digest(value, self.hash_method) for name, value in outputs.items()},
                "files": record_files(outputs, self.hash_method),
                "key": self.key,
                "why": self.why,
                "token": self.token,
                "host": socket.gethostname(),
                **usage.report(),
            }
            if self.cache_libraries:
                header["libraries"] = self._library_versions()
            store.write_result(self.dir, header, outputs, running)
        except BaseException:
            running.path.unlink(missing_ok=True)
            raise
        finally:
            os.close(running.fd)

    def _made_meanwhile(self) -> bool:
        """Whether another driver's job stored this job's result since the driver
        found none (the driver already said why it runs)."""
        header = store.read_header(self.dir)
        return header is not None and header["hash"] == self.hash and self._stale(header) is None

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


def _key_hash(parts: Mapping[str, str]) -> str:
    return digest_bytes("|".join([f"{name}={parts[name]}" for name in sorted(parts)]).encode())


def _set_aside(node_dir: Path) -> None:
    try:
        os.replace(node_dir / store.RESULT, node_dir / DAMAGED)
    except OSError:
        pass


def load_job(path: str | os.PathLike[str]) -> Job:
    with open(path, "rb") as handle:
        return cloudpickle.load(handle)
