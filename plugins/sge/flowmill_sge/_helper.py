"""Entry point of the DRMAA helper process: ``python -m flowmill_sge._helper FD PATIENCE``.

Kept apart from ``_server`` so that a libdrmaa that cannot be loaded is reported to the
driver over the connection, as a message it can turn into advice, instead of a
traceback on a stderr nobody reads.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection


def main(argv: list[str]) -> None:
    # Ctrl-C in the driver's terminal reaches the whole process group; the driver
    # decides what to delete, so this process must outlive the signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(argv[0]))
    try:
        from ._server import Server
    except Exception as exc:
        conn.send(("failed", f"cannot load the DRMAA library: {type(exc).__name__}: {exc}"))
        return
    Server(conn, patience=float(argv[1])).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
