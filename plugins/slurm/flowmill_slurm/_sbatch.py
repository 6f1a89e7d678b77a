"""What one submission is: the batch script (an interpreter script that execs the
worker, so no shell ever reads a path or an argument) and the exact ``sbatch`` line,
with the node's typed resources as ``--cpus-per-task``/``--mem``/``--time`` unless
``sbatch_args`` already asks for them, and the run's timeout as ``--time``."""

from __future__ import annotations

import math
import os
import shlex
import sys
from pathlib import Path
from typing import Sequence

import flowmill.backend as api

from . import _commands
from ._options import SlurmOptions

FAILED_EXIT = 12
"""The worker's exit status when the node failed and wrote its crash file."""
TIMEOUT_EXIT = 14
"""The batch script's exit status when it stopped the worker at the run's timeout."""
LOG = "slurm.out"
SCRIPT = "slurm_job.py"

_FLAGS = {"cpus": ("-c", "--cpus-per-task"), "mem": ("--mem", "--mem-per-cpu", "--mem-per-gpu"),
          "time": ("-t", "--time")}


def script(jobs: Sequence[api.Job], sbatch: Sequence[str], timeout: float | None,
           python: str = sys.executable) -> str:
    """A Python batch script running the worker on one job file, or for an array on
    the file of element ``$SLURM_ARRAY_TASK_ID``, in that job's directory and with its
    output in that job's log. The worker imports what the driver could (the driver's
    ``sys.path``: functions from its own modules unpickle on the node). The second line
    is the ``sbatch`` line that submitted it, for a human to read or rerun.

    Without a timeout the script is the worker (one interpreter start per job, not
    two). With the run's ``timeout`` it supervises the worker and kills its process
    tree when the time is up, exiting ``TIMEOUT_EXIT``: Slurm's own limit (``--time``)
    has minute granularity and is checked every ~30 s, so it is only the backstop."""
    commands = [[*job.command(python), "--failed-exit", str(FAILED_EXIT)] for job in jobs]
    logs = [str(job.dir / LOG) for job in jobs]
    dirs = [str(job.dir) for job in jobs]
    paths = [os.path.abspath(entry) for entry in sys.path if os.path.isdir(entry or ".")]
    pick = "int(os.environ['SLURM_ARRAY_TASK_ID'])" if len(jobs) > 1 else "0"
    head = (f"#!{python}\n"
            f"# {shlex.join(sbatch)}\n"
            "import os\n"
            f"index = {pick}\n"
            f"os.chdir({dirs!r}[index])\n"
            f"command = {commands!r}[index]\n"
            f"log = os.open({logs!r}[index], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)\n"
            "os.dup2(log, 1)\n"
            "os.dup2(log, 2)\n"
            f"os.environ['PYTHONPATH'] = os.pathsep.join({paths!r})\n")
    if timeout is None:
        return head + ("import sys\n"
                       f"sys.path[:0] = {paths!r}\n"
                       "from flowmill.worker import main\n"
                       "sys.exit(main(command[3:]))  # the arguments after -m flowmill.worker\n")
    return head + ("import subprocess, sys\n"
                   "worker = subprocess.Popen(command, start_new_session=True)\n"
                   "try:\n"
                   f"    sys.exit(worker.wait({timeout!r}))\n"
                   "except subprocess.TimeoutExpired:\n"
                   "    from flowmill.backend import kill_process_tree\n"
                   "    kill_process_tree(worker.pid)\n"
                   f"    sys.exit({TIMEOUT_EXIT})\n")


def _given(args: Sequence[str]) -> set[str]:
    return {arg.split("=", 1)[0] for arg in args if arg.startswith("-")}


def _minutes(seconds: float) -> str:
    """Slurm's time limits have minute granularity: round up."""
    return str(max(1, math.ceil(seconds / 60)))


def resource_arguments(resources: api.Resources, given: Sequence[str], timeout: float | None) -> list[str]:
    """Requests for the node's resources that the user's own arguments lack."""
    flags = _given(given)
    extra: list[str] = []
    if resources.cpus and not flags & set(_FLAGS["cpus"]):
        extra.append(f"--cpus-per-task={resources.cpus}")
    if resources.mem_gb and not flags & set(_FLAGS["mem"]):
        extra.append(f"--mem={math.ceil(resources.mem_gb * 1024)}M")
    if timeout is not None:
        extra.append(f"--time={_minutes(timeout + 60)}")
    elif resources.walltime and not flags & set(_FLAGS["time"]):
        extra.append(f"--time={resources.walltime}")
    return extra


def sbatch_line(jobs: Sequence[api.Job], options: SlurmOptions, *,
                timeout: float | None, throttle: int | None = None,
                dependency: str | None = None) -> list[str]:
    """The ``sbatch`` argv for one job, or one array for the elements of a MapNode.
    The user's ``sbatch_args`` come last, so they win over ours."""
    first = jobs[0]
    given = shlex.split(options.sbatch_args)
    argv = ["sbatch", "--parsable", f"--job-name=flowmill-{first.id.split('#')[0]}"[:100],
            f"--chdir={first.dir}", "--open-mode=append"]
    if len(jobs) > 1:
        argv += [f"--array=0-{len(jobs) - 1}" + (f"%{throttle}" if throttle else ""),
                 f"--output={first.dir.parent}/slurm-%A_%a.out"]
    else:
        argv.append(f"--output={first.dir / LOG}")
    if dependency:
        argv += [f"--dependency={dependency}", "--kill-on-invalid-dep=yes"]
    argv += resource_arguments(first.resources, given, timeout)
    return [*argv, *given, str(script_path(jobs))]


def script_path(jobs: Sequence[api.Job]) -> Path:
    """Where the batch script of these jobs lives: the first job's directory."""
    return jobs[0].dir / SCRIPT


def write_script(jobs: Sequence[api.Job], sbatch: Sequence[str], timeout: float | None) -> None:
    path = script_path(jobs)
    api.atomic_write(path, script(jobs, sbatch, timeout).encode())
    path.chmod(0o755)


def submit(jobs: Sequence[api.Job], options: SlurmOptions, *, timeout: float | None, patience: float,
           throttle: int | None = None, dependency: str | None = None) -> list[str]:
    """Write the jobs and their batch script, ``sbatch`` them (one array for several)
    and return the Slurm id of each: ``N``, or ``N_i`` for array element i."""
    for job in jobs:
        job.write()
    argv = sbatch_line(jobs, options, timeout=timeout, throttle=throttle, dependency=dependency)
    write_script(jobs, argv, timeout)
    slurm_id = _commands.run(argv, patience).strip().split(";")[0]
    return [f"{slurm_id}_{i}" for i in range(len(jobs))] if len(jobs) > 1 else [slurm_id]
