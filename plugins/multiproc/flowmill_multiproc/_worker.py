"""The life of one worker process, forked from the driver: read pickled jobs from a
pipe, run each with ``Job.execute`` (its result or crash file lands in the store) and
write the job's id back.

The job pipe is also the worker's lifeline: when the driver closes it, or dies, the
read ends and the worker kills whatever its current job started and exits, so nothing
outlives the driver. A listener thread does the reading, so the lifeline holds while
a job runs in the main thread.
"""

from __future__ import annotations

import os
import queue
import threading
from multiprocessing.connection import Connection
from typing import NoReturn

import cloudpickle
import psutil


def _listen(inbox: Connection, jobs: "queue.SimpleQueue[bytes]") -> NoReturn:
    try:
        while True:
            jobs.put(inbox.recv_bytes())
    except (EOFError, OSError):
        pass
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    os._exit(0)


def serve(inbox: Connection, outbox: Connection) -> NoReturn:
    """Run jobs until the lifeline closes; never returns (the process exits)."""
    jobs: "queue.SimpleQueue[bytes]" = queue.SimpleQueue()
    threading.Thread(target=_listen, args=(inbox, jobs), daemon=True).start()
    try:
        while True:
            job = cloudpickle.loads(jobs.get())
            job.execute()
            outbox.send_bytes(job.id.encode())
    finally:
        os._exit(70)
