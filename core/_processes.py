"""Stopping a process together with everything it started.

Command nodes keep their tools in the job's process group, so that a scheduler
stopping the job (qdel, h_rt, Ctrl-C in a terminal) reaches them; flowmill itself and
its backends stop one job by walking its process tree instead, since signalling the
group would also hit the worker or the driver that shares it.
"""

from __future__ import annotations

import psutil


def kill_process_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants; processes already gone are ignored."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in tree:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
