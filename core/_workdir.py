"""Run a node's function with its node directory as working directory, as nipype does:
relative paths it writes land in its own directory, never in another instance's.

The working directory belongs to a process, so changing it around a call would race
between threads running nodes at once (the ruffus backend's multithread mode, or two
runs in threads of one program). On Linux each thread that runs a node first takes a
working directory of its own (``unshare(CLONE_FS)``, no privilege needed), so threads
never see each other's. Where that is not available, calls that change the directory
take one process-wide lock: threads of one process then run function nodes one at a
time, which is correct but not parallel.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import Any

_CLONE_FS = 0x200
_local = threading.local()
_shared_cwd_lock = threading.RLock()


def _own_working_directory() -> bool:
    """Give the calling thread a working directory of its own, once; False where the
    system cannot."""
    owned = getattr(_local, "owned", None)
    if owned is None:
        owned = False
        if sys.platform == "linux":
            try:
                owned = ctypes.CDLL(None, use_errno=True).unshare(_CLONE_FS) == 0
            except (OSError, AttributeError):
                owned = False
        _local.owned = owned
    return owned


class working_directory:  # noqa: N801 - used like a function: with working_directory(path)
    """Run the block with ``path`` as working directory, then go back (a class rather
    than a generator: it wraps every function node's call)."""

    __slots__ = ("path", "previous", "guard")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.guard: contextlib.AbstractContextManager[Any] | None = (
            None if _own_working_directory() else _shared_cwd_lock)

    def __enter__(self) -> None:
        if self.guard is not None:
            self.guard.__enter__()
        self.previous = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.previous)
        if self.guard is not None:
            self.guard.__exit__(*exc)
