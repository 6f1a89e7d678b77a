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
from typing import Iterator

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


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block with ``path`` as working directory, then go back."""
    guard = contextlib.nullcontext() if _own_working_directory() else _shared_cwd_lock
    with guard:
        previous = os.getcwd()
        os.chdir(path)
        try:
            yield
        finally:
            os.chdir(previous)
