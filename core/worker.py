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

It is also the rerun command of every crash record: run by hand, it reruns that node
alone in the foreground (the node's own output goes to the terminal) and says how it
ended, with the crash record when it failed again.
"""

from __future__ import annotations

import argparse
import sys

from .contract.states import NodeState
from .execution.job import load_job
from .store import results as store
from .store.crash import format_crash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowmill.worker", description=__doc__.splitlines()[0])
    parser.add_argument("jobfile", help="job.pkl written by the driver into the node's directory")
    parser.add_argument("--failed-exit", type=int, default=1, metavar="N",
                        help="exit status when the node fails and its crash file is written (default 1; "
                             "choose another to tell it from a worker that crashed)")
    args = parser.parse_args(argv)
    return rerun(args.jobfile, args.failed_exit)


def rerun(jobfile: str, failed_exit: int = 1) -> int:
    """Run one job file here; report its outcome on stderr; return the exit status."""
    job = load_job(jobfile)
    outcome = job.execute()
    if outcome == NodeState.FAILED:
        crash_file = store.find_crash(job.dir)
        shown = format_crash(store.read_crash(crash_file)) if crash_file else "(no crash record could be written)"
        print(f"node {job.id} failed; crash record {crash_file}:\n{shown}", file=sys.stderr)
        return failed_exit
    print(f"node {job.id} {'ran' if outcome == NodeState.RAN else 'was cached'}; result in {job.dir}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
