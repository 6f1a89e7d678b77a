"""How flowmill names the process a node runs in, wherever it shows (the live
display, the run journal's and lock's holder messages, the report's timeline, the
status of a run): ``HOST pid N``, one spelling so that a person can match them."""

from __future__ import annotations

import os
import socket


def process_place(pid: int | None = None, host: str | None = None) -> str:
    """``"HOST pid N"`` for process ``pid`` on ``host`` (default: this process, this host).

    A backend passes it as ``where`` to ``RunContext.started`` when it knows the
    process that runs a job (a worker it forked, a sandbox, itself)."""
    return f"{host or socket.gethostname()} pid {os.getpid() if pid is None else pid}"
