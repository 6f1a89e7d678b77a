"""Per-node locks: drivers sharing a base_dir run each node once.

A job takes its node's lock before it looks at the store for the last time and runs;
a second driver's job for the same node waits for it, then finds the first one's
result and reuses it. The lock is ``flock`` on the node directory itself (no file to
create, so a first run costs no more than before), which the kernel releases when
its holder dies, however it dies: no lock is ever left held by a dead owner. Where a
directory cannot be locked (NFS turns ``flock`` into byte-range locks, which need a
file open for writing), a ``node.lock`` file in the node directory is locked instead.
On NFS the server arbitrates between hosts (NFSv3 through lockd, NFSv4 natively) and
releases the lock of a host that died when its lease expires (90 s by default). An
NFS mount with ``local_lock=flock`` (or ``all``) keeps locks on each host: drivers on
different hosts are then not kept apart. Not tried on NFS yet (no NFS server on the
test machines): the tests do not exercise the ``node.lock`` fallback.

Who runs a node shows in the file its result is being written to, created when the
run starts and named after its holder (``.running.<pid>@<host>+<run id>``); it
becomes ``result.pkl`` by ``os.replace`` when the node succeeds and is removed when it
fails. A waiting job names the holder from it; a job that takes the lock and finds
one left knows its holder died mid-run, says so with a warning, and removes it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Iterator

LOCK = "node.lock"
RUNNING = ".running."
_NO_DIRECTORY_LOCKS = {errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP}

log = logging.getLogger("flowmill")


@contextlib.contextmanager
def node_lock(node_dir: Path, node: str) -> Iterator[None]:
    """Hold the node's lock for the block, waiting while another job holds it."""
    fd = _lock(node_dir, node)
    try:
        for name in _running(node_dir):
            log.warning("node %s: %s died while running it; its leftover %s is removed", node, _holder(name),
                        name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(node_dir, name))
        yield
    finally:
        os.close(fd)


def running_file(node_dir: Path, run_id: str | None) -> Path:
    """Create the file the node's result is written to, named after its holder."""
    path = Path(node_dir, f"{RUNNING}{os.getpid()}@{socket.gethostname()}+{run_id}")
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
    return path


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
    except BaseException:
        os.close(fd)
        raise
    return fd


def _flock(fd: int, node_dir: Path, node: str) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holders = ", ".join(_holder(name) for name in _running(node_dir)) or "another job"
        log.info("node %s is being run by %s; waiting for it", node, holders)
        fcntl.flock(fd, fcntl.LOCK_EX)


def _running(node_dir: Path) -> list[str]:
    return [name for name in os.listdir(node_dir) if name.startswith(RUNNING)]


def _holder(name: str) -> str:
    pid, _, rest = name[len(RUNNING):].partition("@")
    host, _, run = rest.partition("+")
    return f"pid {pid} on {host} (run {run})"
