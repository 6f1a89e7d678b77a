"""``python -m flowmill_sge.launch --env FILE [--array FILE] [--after TOKEN DIR]... -- WORKER_ARGS``

What every Grid Engine job of flowmill runs, in front of ``python -m flowmill.worker``:

* ``--env``: the driver's environment, written once per run into a file. Passing it
  with each job would make the qmaster store and spool ~40 variables per job, which
  halves the submission rate; only what the interpreter needs to start (``PATH``,
  ``PYTHONPATH``, ``LD_LIBRARY_PATH``, ``PYTHON*``) travels with the job. Variables the
  job already has (e.g. set with ``qsub -v``) are kept.
* ``--array`` (a MapNode's elements as one job array): task ``$SGE_TASK_ID`` runs the
  job at that place in the manifest, in that job's directory, logging there, after
  checking the parents listed for that task alone (an array held element-wise on
  another with ``-hold_jid_ad``).
* ``--after`` (graph mode): Grid Engine releases a job held with ``-hold_jid`` when its
  parent *ends*, however it ended, and DRMAA jobs cannot be kept in SGE's error state
  (libdrmaa marks every job "no error state"), so a held job cannot rely on the
  scheduler to know whether its parents succeeded. Every parent must have written its
  result in this submission (its result header carries the token it was submitted
  with); otherwise the node does not run at all, not even on a stale result of an
  earlier run, and the job exits with ``GUARD_BLOCKED_EXIT``. On a shared file system a
  parent's result may show up here a little after the parent ended elsewhere, hence the
  bounded ``--grace``, cut short by the parent's crash file or by its note that it refused
  to run too (``sge_blocked``, so a whole branch stops at once).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from flowmill import worker
from flowmill.backend import backoff, result_token

from ._outcome import GUARD_BLOCKED_EXIT
from ._records import gave_up, mark_blocked
from ._spec import STDERR, STDOUT


def _missing(expected: list[tuple[str, str]]) -> list[str]:
    return [folder for token, folder in expected if result_token(Path(folder)) != token]


def _parents_done(expected: list[tuple[str, str]], grace: float) -> bool:
    waits = backoff(within=grace)
    while missing := _missing(expected):
        given_up = any(gave_up(Path(folder), token) for token, folder in expected if folder in missing)
        if given_up or next(waits, None) is None:
            print(f"flowmill-sge launch: not running: no result of this submission in {', '.join(missing)} "
                  "(the upstream node failed or was deleted)", file=sys.stderr)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowmill_sge.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="JSON file with the driver's environment")
    parser.add_argument("--after", nargs=2, action="append", default=[], metavar=("TOKEN", "DIR"),
                        help="a parent's node directory and the token its result must carry")
    parser.add_argument("--token", help="this job's submission token (graph mode)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait for parents' results to appear")
    parser.add_argument("--array", help="JSON list of [job file, node dir]: run entry $SGE_TASK_ID")
    parser.add_argument("worker", nargs=argparse.REMAINDER, help="arguments of python -m flowmill.worker")
    args = parser.parse_args(argv)
    with open(args.env, encoding="utf-8") as handle:
        for name, value in json.load(handle).items():
            os.environ.setdefault(name, value)
    worker_args = [arg for arg in args.worker if arg != "--"]
    expected = [tuple(pair) for pair in args.after]
    if args.array:
        job_file, own = _array_task(args.array)
        worker_args.insert(0, job_file)
        expected += own
    if not _parents_done(expected, args.grace):
        mark_blocked(Path.cwd(), args.token)
        return GUARD_BLOCKED_EXIT
    return worker.main(worker_args)


def _array_task(manifest: str) -> tuple[str, list[tuple[str, str]]]:
    """This task's job file and the parents only it waits for (element-wise arrays);
    moves into its node directory and its log files there."""
    with open(manifest, encoding="utf-8") as handle:
        job_file, node_dir, own = json.load(handle)[int(os.environ["SGE_TASK_ID"]) - 1]
    os.chdir(node_dir)
    for stream, name in ((sys.stdout, STDOUT), (sys.stderr, STDERR)):
        stream.flush()
        with open(name, "ab") as log:
            os.dup2(log.fileno(), stream.fileno())
    return job_file, [(token, folder) for token, folder in own]


if __name__ == "__main__":
    sys.exit(main())
