"""Run one job file on this host: ``python -m flowmill.worker JOBFILE [--failed-exit N]``.

Batch backends submit this command (the SGE backend behind its launcher). The job's
result or crash file lands in the shared result store, and the exit status tells the
backend which of three things happened: 0, the node ran (or was found cached); N, the
node failed and its crash file is written; anything else, the worker itself died before
recording an outcome, which the backend reports as a lost job. Pick N other than 1,
since Python exits 1 on an uncaught error (the SGE backend uses 12). The status is for
the backend only: a scheduler holding dependants on this job (SGE ``-hold_jid``)
releases them however it ended, so dependants check their parents' results in the store
themselves (the SGE launcher's guard).
"""

from __future__ import annotations

import argparse
import sys

from .contract.states import NodeState
from .execution.job import load_job


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowmill.worker", description=__doc__.splitlines()[0])
    parser.add_argument("jobfile", help="job.pkl written by the driver into the node's directory")
    parser.add_argument("--failed-exit", type=int, default=1, metavar="N",
                        help="exit status when the node fails and its crash file is written (default 1; "
                             "choose another to tell it from a worker that crashed)")
    args = parser.parse_args(argv)
    outcome = load_job(args.jobfile).execute()
    return args.failed_exit if outcome == NodeState.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
