"""What an engine runs for one node.

Engines are long-lived: a task that changes the working directory, the environment or
``sys.path`` would leak into every later task of that engine. So each task starts from
the state the engine had when it first ran a flowmill task, plus the driver's
``sys.path`` (engines do not inherit it, and user modules next to the driver's script
must import). The job arrives pickled by cloudpickle in the driver, so functions from
``__main__``, closures and lambdas work on every engine, also on engines that joined
the cluster after the run started. User modules the engine imported for an earlier
job are dropped when their source changed since, or would now be imported from elsewhere (a later run after an edit must run
the new code, which its cache key was taken from). Only a tiny status travels back: the node's result
is in the shared store.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import cloudpickle
from flowmill.backend import forget_stale_modules

_ENGINE_CWD = os.getcwd()
_ENGINE_ENV = dict(os.environ)
_ENGINE_PATH = list(sys.path)


def _reset_engine_state(driver_path: list[str]) -> None:
    os.chdir(_ENGINE_CWD)
    os.environ.clear()
    os.environ.update(_ENGINE_ENV)
    sys.path[:] = _ENGINE_PATH + [entry for entry in driver_path if entry not in _ENGINE_PATH]


PLACE = "flowmill_place"
"""The key of the data message that tells the driver where a task started."""


def _announce() -> None:
    """Tell the driver which process took the task, before it runs: the driver hears
    it as the task's start (the controller says nothing when an engine begins a task).
    An engine that cannot publish (not an IPython kernel) stays silent; the driver then
    learns the place with the task's end."""
    try:
        from ipyparallel.datapub import publish_data

        publish_data({PLACE: (socket.gethostname(), os.getpid())})
    except Exception:
        pass


def run_job(payload: bytes, driver_path: list[str]) -> dict[str, Any]:
    """Execute one pickled :class:`flowmill.Job` here; return how it went."""
    _announce()
    _reset_engine_state(driver_path)
    forget_stale_modules()
    job = cloudpickle.loads(payload)
    outcome = job.execute()
    forget_stale_modules()
    return {"outcome": outcome, "host": socket.gethostname(), "pid": os.getpid()}
