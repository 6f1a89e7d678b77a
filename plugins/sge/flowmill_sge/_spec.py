"""What one node becomes on Grid Engine: its native specification, command, working
directory, log files and environment.

``qsub_args`` is split with :mod:`shlex` and handed to DRMAA token by token, never to a
shell. The node's typed resources become ``-pe``/``-l`` requests unless the raw
``qsub_args`` already say something about the same thing (raw arguments win).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import flowmill.backend as api
from flowmill.backend import atomic_write

from ._options import SGEOptions

WORKER_FAILED_EXIT = 12
"""Exit status of a worker whose node failed and wrote its crash file. Distinct from
Python's 1 (the worker itself crashed, nothing recorded), and not SGE's 99 (requeue)
or 100 (error state, which DRMAA jobs cannot enter: libdrmaa submits every job with
SGE's "no error state" flag, so exit 100 just ends the job as aborted)."""

STDOUT = "sge.stdout"
STDERR = "sge.stderr"

_PER_JOB_VARIABLES = re.compile(
    r"^(JOB_ID|JOB_NAME|JOB_SCRIPT|SGE_.*|NSLOTS|NHOSTS|NQUEUES|PE|PE_HOSTFILE|QUEUE|TMPDIR|TMP|HOSTNAME|"
    r"ENVIRONMENT|REQUEST|RESTARTED|ARC|SHELL|HOME|USER|LOGNAME|BASH_FUNC_.*)$")
"""Variables Grid Engine sets for each job itself; copying the driver's would lie."""

_STARTUP_VARIABLES = re.compile(r"^(PATH|PYTHONPATH|LD_LIBRARY_PATH|PYTHON[A-Z_]*)$")
"""What the interpreter needs before it can read anything: travels with each job."""


def job_environment(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The driver's environment for its jobs (jobs otherwise start with a minimal PATH),
    with ``PYTHONPATH`` covering the driver's ``sys.path`` so that modules the driver
    imports from its own directory import in the job too. Split in two: what the
    interpreter needs to start, passed with each job, and the rest, which the job
    loads from a file (see ``flowmill_sge.launch``)."""
    env = {key: value for key, value in (environ or os.environ).items()
           if not _PER_JOB_VARIABLES.match(key) and "\n" not in value}
    paths = dict.fromkeys([*env.get("PYTHONPATH", "").split(os.pathsep), *sys.path])
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path and os.path.isdir(path))
    startup = {key: value for key, value in env.items() if _STARTUP_VARIABLES.match(key)}
    return startup, {key: value for key, value in env.items() if key not in startup}


def environment_file(folder: Path, env: Mapping[str, str]) -> Path:
    """Where the environment ``env`` is kept for the jobs of runs in ``folder``; named
    by its content, so runs with the same environment share one file."""
    text = json.dumps(dict(env), sort_keys=True)
    return folder / f".sge-env-{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}.json"


def _requested(tokens: Sequence[str]) -> tuple[set[str], set[str]]:
    """Flags and ``-l`` resource names (also ``-l a=1,b=2``) present in qsub arguments."""
    flags = {token for token in tokens if token.startswith("-")}
    resources: set[str] = set()
    for flag, value in zip(tokens, tokens[1:]):
        if flag == "-l":
            resources.update(item.split("=", 1)[0].strip() for item in value.split(","))
    return flags, resources


def resource_arguments(resources: api.Resources, options: SGEOptions, given: Sequence[str]) -> list[str]:
    """``-pe``/``-l`` requests for the node's typed resources that ``given`` lacks."""
    flags, names = _requested(given)
    extra: list[str] = []
    cpus = resources.cpus or 1
    if resources.cpus and resources.cpus > 1 and "-pe" not in flags:
        extra += ["-pe", options.pe, str(resources.cpus)]
    if resources.mem_gb and options.memory_flag not in names:
        megabytes = math.ceil(resources.mem_gb * 1024 / (cpus if options.memory_per_slot else 1))
        extra += ["-l", f"{options.memory_flag}={megabytes}M"]
    if resources.walltime and "h_rt" not in names:
        extra += ["-l", f"h_rt={resources.walltime}"]
    return extra


def split_qsub_args(qsub_args: str, where: str) -> list[str]:
    """``qsub_args`` as tokens; raises a ValidationError naming ``where`` when they
    cannot be expressed to DRMAA."""
    try:
        given = shlex.split(qsub_args)
    except ValueError as exc:
        raise api.ValidationError(f"{where}: qsub_args={qsub_args!r} cannot be parsed ({exc}); "
                                       "check its quotes") from None
    spaced = [token for token in given if not token or any(ch.isspace() for ch in token)]
    if spaced:
        raise api.ValidationError(f"{where}: qsub_args={qsub_args!r} has the argument {spaced[0]!r} with "
                                       "whitespace, which a DRMAA native specification cannot carry")
    return given


def _seconds(walltime: str) -> int:
    hours, minutes, seconds = (int(part) for part in walltime.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def native_spec(job: api.Job, options: SGEOptions, *, time_limit: float | None = None) -> list[str]:
    """The native specification tokens of one node. ``time_limit`` (the run's
    ``timeout``, seconds) becomes ``-l h_rt``, or caps the node's own ``walltime``;
    an ``h_rt`` in the raw ``qsub_args`` wins, like every raw argument."""
    given = split_qsub_args(options.qsub_args, f"node {job.id!r}")
    resources = job.resources
    if time_limit and (not resources.walltime or _seconds(resources.walltime) > time_limit):
        seconds = math.ceil(time_limit)
        resources = dataclasses.replace(resources, walltime=f"{seconds // 3600}:{seconds // 60 % 60:02d}:"
                                                            f"{seconds % 60:02d}")
    return ["-b", "y", *resource_arguments(resources, options, given), *given]


def job_name(job: api.Job) -> str:
    return "fm." + re.sub(r"[^A-Za-z0-9_.-]", "_", job.id)


def request(job: api.Job, native: list[str], command: list[str], env: dict[str, str], *,
            after: Iterable[str] = ()) -> dict[str, Any]:
    """The submission the helper turns into a DRMAA job template, with the node's
    ``native`` specification (:func:`native_spec`); ``after`` lists keys (node ids) or
    SGE job ids the job is held on."""
    return {
        "key": job.id,
        "name": job_name(job),
        "command": command,
        "spec": native,
        "cwd": str(job.dir),
        "stdout": str(job.dir / STDOUT),
        "stderr": str(job.dir / STDERR),
        "env": env,
        "after": list(after),
    }


def _launcher(job: api.Job, env_file: Path, guard: float | None) -> list[str]:
    """``flowmill_sge.launch`` loading the driver's environment from ``env_file``; in
    graph mode (``guard`` = the run's result grace) it first checks the parents that
    the rest of the command names, and marks the job blocked with its token if not."""
    command = [sys.executable, "-m", "flowmill_sge.launch", "--env", str(env_file)]
    if guard is not None:
        command += ["--grace", f"{guard:g}", "--token", str(job.token)]
    return command


def _after(expected: Iterable[tuple[str, str]]) -> list[str]:
    return [arg for token, folder in expected for arg in ("--after", token, folder)]


def launch_command(job: api.Job, env_file: Path, expected: Iterable[tuple[str, str]] = (),
                   guard: float | None = None) -> list[str]:
    """What a job runs: the core's worker with the driver's interpreter, behind the
    launcher, which first checks each parent (token, node dir) in ``expected`` when
    ``guard`` (graph mode: the run's result grace) is given."""
    return [*_launcher(job, env_file, guard), *_after(expected), "--", job.command()[-1], "--failed-exit",
            str(WORKER_FAILED_EXIT)]


def array_request(jobs: Sequence[api.Job], native: list[str], env_file: Path, env: dict[str, str], *,
                  expected: Iterable[tuple[str, str]] = (), per_task: Sequence[Sequence[tuple[str, str]]] = (),
                  guard: float | None = None, after: Iterable[str] = (),
                  after_ad: Iterable[str] = ()) -> dict[str, Any]:
    """One job array for elements of a MapNode that share their parents: task N runs
    the N-th job of a manifest written next to their directories (DRMAA varies only
    output paths per task, so the launcher picks the job, its directory and its log
    files itself). ``per_task`` adds, task by task, the parents that task alone waits
    for (held element-wise with ``-hold_jid_ad`` on the arrays named in ``after_ad``);
    ``guard`` as in :func:`launch_command`."""
    folder = Path(jobs[0].dir).parent
    keys = [job.id for job in jobs]
    manifest = folder / f".sge-array-{hashlib.blake2b(repr(keys).encode(), digest_size=8).hexdigest()}.json"
    extra = list(per_task) or [[] for _ in jobs]
    atomic_write(manifest, json.dumps([[job.command()[-1], str(job.dir), [list(pair) for pair in extra[k]]]
                                       for k, job in enumerate(jobs)]).encode())
    logs = str(manifest.with_suffix("")) + ".$drmaa_incr_ph$"
    return {
        "key": jobs[0].id,
        "keys": keys,
        "name": job_name(jobs[0]),
        "command": [*_launcher(jobs[0], env_file, guard), *_after(expected), "--array", str(manifest), "--",
                    "--failed-exit", str(WORKER_FAILED_EXIT)],
        "spec": native,
        "cwd": str(folder),
        "stdout": logs + ".stdout",
        "stderr": logs + ".stderr",
        "env": env,
        "after": list(after),
        "after_ad": list(after_ad),
    }


def log_paths(job: api.Job) -> dict[str, str]:
    return {"stdout": str(Path(job.dir) / STDOUT), "stderr": str(Path(job.dir) / STDERR)}
