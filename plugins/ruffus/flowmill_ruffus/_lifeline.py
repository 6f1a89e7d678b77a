"""Ruffus' processes die with the driver, however the driver dies.

Ruffus forks a multiprocessing manager (in both modes) and, in ``multiprocess`` mode,
a pool of workers, each of which forks a sandbox (see ``_sandbox``). A driver that
exits normally or on Ctrl-C stops them; one killed by SIGKILL or the OOM killer
cannot, and they used to live on, the workers finishing the jobs they held. So every
process flowmill or Ruffus forks for a run asks the kernel (Linux ``prctl
PR_SET_PDEATHSIG``) to SIGKILL it when its parent dies, and exits at once if the
parent is already gone. Ruffus' own processes get this through multiprocessing's
after-fork hook, in direct children of the driver only: a node that uses
multiprocessing itself is left alone.

The kernel sends that signal when the forking *thread* ends, not the process: a
child forked off a thread that ends before the run does (the pool's workers, see
``_pool``) watches the driver through a pidfd instead (:func:`exit_with`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import select
import signal
import threading
from multiprocessing import util

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """In a process just forked by ``parent``: be SIGKILLed when the parent dies
    (Linux only; elsewhere a no-op), and exit now if it already died."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def exit_with(driver: int) -> None:
    """In a process just forked by ``driver`` (from any of its threads), leading a
    process group of its own: SIGKILL that group when the driver dies, and exit now
    if it already died."""
    try:
        lifeline = os.pidfd_open(driver)
    except OSError:
        os._exit(1)
    if os.getppid() != driver:  # the pidfd may name a process that reused the pid
        os._exit(1)

    def watch() -> None:
        select.select([lifeline], [], [])
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="flowmill-ruffus-lifeline", daemon=True).start()


class _Driver:
    """The registered after-fork object: the driver's pid (weak-referenceable, as
    multiprocessing's registry requires)."""

    def __init__(self) -> None:
        self.pid = os.getpid()


def _on_fork(driver: _Driver) -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid == driver.pid:
        die_with_parent(driver.pid)


_guards: dict[int, _Driver] = {}


def guard() -> None:
    """Make the multiprocessing children this process forks from now on die with it."""
    if os.getpid() not in _guards:
        _guards[os.getpid()] = driver = _Driver()
        util.register_after_fork(driver, _on_fork)
