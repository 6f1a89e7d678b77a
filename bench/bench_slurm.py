"""Slurm backend: flowmill against raw ``sbatch`` with the same polling, on the same cluster.

    python bench/bench_slurm.py [--jobs 200] [--graph-jobs 200] [--waiting 100 --watch 60]

Prints three figures (targets in brackets):

1. wall time of N trivial Python jobs submitted with raw ``sbatch --parsable`` and
   waited for with one ``squeue`` per poll interval, and of an N-node flowmill workflow
   of independent nodes (``plugin="slurm"``) with the same poll settings: flowmill's
   overhead over raw sbatch [<= 20 %];
2. graph mode's submission rate for M independent nodes (``wait=False`` with
   ``--hold``) against raw held ``sbatch`` of M jobs [close to raw];
3. scheduler queries (slurmctld's REQUEST_JOB_INFO count from ``sdiag``) per minute
   while a run waits on W held jobs, with the default poll settings [at most one every
   few seconds, whatever W].

Needs a running cluster (``bash scripts/slurm/start.sh``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import flowmill
from flowmill import Node, Workflow

POLL = {"poll_interval": 1.0, "poll_most": 2.0}


def trivial(i: int) -> int:
    return i * 7


def squeue_ended(ids: list[str]) -> set[str]:
    out = subprocess.run(["squeue", "--noheader", "--states=all", f"--jobs={','.join(ids)}", "--format=%i|%T"],
                         capture_output=True, text=True, check=False).stdout
    states = dict(line.split("|", 1) for line in out.split())
    return {job_id for job_id in ids if states.get(job_id, "COMPLETED") not in ("PENDING", "RUNNING", "COMPLETING",
                                                                               "CONFIGURING")}


def raw_sbatch(jobs: int, workdir: Path, hold: bool = False) -> tuple[float, list[str]]:
    """Submit ``jobs`` trivial Python batch scripts; unless held, poll until all ended."""
    script = workdir / "raw.py"
    script.write_text(f"#!{sys.executable}\nprint(6 * 7)\n")
    script.chmod(0o755)
    started = time.monotonic()
    ids = [subprocess.run(["sbatch", "--parsable", "--output=/dev/null", *(["--hold"] if hold else []),
                           str(script)], capture_output=True, text=True, check=True).stdout.strip()
           for _ in range(jobs)]
    if not hold:
        pending = set(ids)
        while pending:
            time.sleep(POLL["poll_interval"])
            pending -= squeue_ended(sorted(pending))
    return time.monotonic() - started, ids


def workflow(name: str, nodes: int, base: Path) -> Workflow:
    wf = Workflow(name, base_dir=base)
    for i in range(nodes):
        node = Node(trivial, name=f"n{i}")
        node.inputs.i = i
        wf.add_nodes([node])
    return wf


def job_info_requests() -> int:
    out = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"REQUEST_JOB_INFO\s+\(\s*\d+\)\s+count:(\d+)", out)
    return int(match.group(1)) if match else 0


def cancel_workflow_jobs(nodes: int) -> None:
    """scancel the jobs of nodes n0..n{nodes-1} (found by their job names)."""
    names = ",".join(f"flowmill-n{i}" for i in range(nodes))
    ids = subprocess.run(["squeue", "--noheader", "--format=%i", f"--name={names}"], capture_output=True,
                         text=True, check=True).stdout.split()
    if ids:
        subprocess.run(["scancel", *ids], check=True)


def overhead(jobs: int, base: Path) -> None:
    raw, _ = raw_sbatch(jobs, base)
    started = time.monotonic()
    workflow("overhead", jobs, base).run(plugin="slurm", **POLL)
    ours = time.monotonic() - started
    print(f"1. {jobs} trivial jobs: raw sbatch + squeue {raw:.1f} s, flowmill {ours:.1f} s, "
          f"overhead {100 * (ours - raw) / raw:+.0f} % [<= 20 %]")


def submission(jobs: int, base: Path) -> None:
    raw, ids = raw_sbatch(jobs, base, hold=True)
    subprocess.run(["scancel", *ids], check=True)
    started = time.monotonic()
    res = workflow("submit", jobs, base).run(plugin="slurm", graph=True, wait=False, sbatch_args="--hold")
    ours = time.monotonic() - started
    cancel_workflow_jobs(jobs)
    assert len(res.pending) == jobs
    print(f"2. graph mode submits {jobs} jobs in {ours:.1f} s ({jobs / ours:.0f}/s); raw sbatch {raw:.1f} s "
          f"({jobs / raw:.0f}/s): {100 * raw / ours:.0f} % of raw")


def queries_while_waiting(jobs: int, watch: float, base: Path) -> None:
    wf = workflow("waiting", jobs, base)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            wf.run(plugin="slurm", sbatch_args="--hold")
        except flowmill.WorkflowError as exc:
            failure.append(exc)

    driver = threading.Thread(target=run)
    driver.start()
    time.sleep(5)
    before = job_info_requests()
    time.sleep(watch)
    queries = job_info_requests() - before
    cancel_workflow_jobs(jobs)
    driver.join()
    print(f"3. while {jobs} jobs wait: {queries} job queries in {watch:.0f} s = {60 * queries / watch:.1f} per "
          f"minute (one every {watch / max(queries, 1):.1f} s) [at most one every few seconds]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--graph-jobs", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--watch", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-slurm-", dir=Path.home()) as tmp:
        overhead(args.jobs, Path(tmp))
        submission(args.graph_jobs, Path(tmp))
        queries_while_waiting(args.waiting, args.watch, Path(tmp))


if __name__ == "__main__":
    main()
