"""Per-node locks: drivers sharing a base_dir run each node once.

A job takes its node's lock before it looks at the store for the last time and runs;
a second driver's job for the same node waits for it, then finds the first one's
result and reuses it. The lock is ``flock`` on the node directory itself (no file to
create, so a first run costs no more than before), which the kernel releases when
its holder dies, however it dies: no lock is ever left held by a dead owner. Where a
directory cannot be locked (NFS turns ``flock`` into byte-range locks, which need a
file open for writing), a ``node.lock`` file in the node directory is locked instead.
A file system that refuses that too (``ENOLCK``, ``EOPNOTSUPP``) fails the node with
:class:`LocksRefused`: a node never runs unlocked. What NFS does with these locks
(hosts kept apart, a dead host's lock held until its lease expires, ``nolock`` and
``local_lock`` mounts that keep locks on one host) is in docs/cache.md; not tried on
NFS itself (no NFS client on the test machines): the tests make ``flock`` refuse.

Who runs a node shows in ``.running``, the file its result is written to: created
when the run starts, holding its holder's host, pid and run id until the result
replaces them, then renamed to ``result.pkl`` (removed if the node fails). A waiting
job names the holder from it; a job that starts a run and finds one left knows its
holder died mid-run, and says so with a warning.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from .._errors import FlowmillError

LOCK = "node.lock"
RUNNING = ".running"
_NO_DIRECTORY_LOCKS = {errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP}
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL}
_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL

log = logging.getLogger("flowmill")


class LocksRefused(FlowmillError):
    """The file system of a node directory refuses file locks, so drivers sharing its
    base_dir could run the node at the same time: the node fails instead of running
    unlocked."""

    def __init__(self, node_dir: Path, error: OSError) -> None:
        self.node_dir = node_dir
        code = errno.errorcode.get(error.errno or 0, str(error.errno))
        super().__init__(
            f"the file system of {node_dir} refuses file locks ({code}: {error.strerror}), and flowmill runs no "
            "node unlocked. Fix: put base_dir on a file system with locks (a local disk), or on NFS make "
            "locking work (NFSv4, or NFSv3 with rpc.statd running on this host and the server; see "
            "docs/cache.md)")


class Running(NamedTuple):
    """The open file a running node's result is written to (see the module doc)."""

    path: Path
    fd: int


@contextlib.contextmanager
def node_lock(node_dir: Path, node: str) -> Iterator[None]:
    """Hold the node's lock for the block, waiting while another job holds it."""
    fd = _lock(node_dir, node)
    try:
        yield
    finally:
        os.close(fd)


def start_running(node_dir: Path, node: str, run_id: str | None) -> Running:
    """Create ``.running`` for a run starting under the node's lock, with who runs it."""
    path = Path(node_dir, RUNNING)
    try:
        fd = os.open(path, _CREATE, 0o666)
    except FileExistsError:
        fd = os.open(path, os.O_RDWR)
        log.warning("node %s: %s died while running it; it runs again", node, _holder(fd))
        os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "run": run_id}).encode())
    return Running(path, fd)


def _lock(node_dir: Path, node: str) -> int:
    fd = os.open(node_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _flock(fd, node_dir, node)
        return fd
    except OSError as exc:
        os.close(fd)
        if exc.errno not in _NO_DIRECTORY_LOCKS:
            raise
    fd = os.open(os.path.join(node_dir, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        _flock(fd, node_dir, node)
    except OSError as exc:
        os.close(fd)
        if exc.errno in _NO_LOCKS:
            raise LocksRefused(node_dir, exc) from None
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


def _flock(fd: int, node_dir: Path, node: str) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            running = os.open(os.path.join(node_dir, RUNNING), os.O_RDONLY)
        except FileNotFoundError:
            holder = "another job"
        else:
            holder = _holder(running)
            os.close(running)
        log.info("node %s is being run by %s; waiting for it", node, holder)
        fcntl.flock(fd, fcntl.LOCK_EX)


def running_holder(node_dir: Path) -> dict[str, Any] | None:
    """The holder record of the job running the node now (``host``, ``pid``, ``run``:
    the run id that submitted it), or None when no job has started it (or its result
    already replaced the record). For a backend whose scheduler does not say when a job
    starts (Grid Engine): the job's worker writes this record the moment the node starts."""
    try:
        fd = os.open(os.path.join(node_dir, RUNNING), os.O_RDONLY)
    except OSError:
        return None
    try:
        return _record(fd)
    finally:
        os.close(fd)


def _record(fd: int) -> dict[str, Any] | None:
    """A ``.running`` file's holder record; None while it is still being written."""
    try:
        owner = json.loads(os.pread(fd, 4096, 0))
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or not {"host", "pid", "run"} <= owner.keys():
        return None
    return owner


def _holder(fd: int) -> str:
    """Who a ``.running`` file says runs the node, as a person reads it."""
    owner = _record(fd)
    if owner is None:
        return "a job that left no name"
    return f"pid {owner['pid']} on {owner['host']} (run {owner['run']})"
