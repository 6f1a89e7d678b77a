"""Run one job file on this host: ``python -m flowmill.worker JOBFILE``.

Batch backends submit exactly this command. The job's result (or crash file) lands in
the shared result store; the exit status tells the scheduler whether it failed, so a
scheduler holding dependants on this job (SGE ``-hold_jid``) can keep them from running
on missing inputs.
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
                        help="exit status when the node fails (SGE puts a job exiting 100 in error state)")
    args = parser.parse_args(argv)
    outcome = load_job(args.jobfile).execute()
    return args.failed_exit if outcome == NodeState.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
