"""Grid Engine backend: flowmill against raw DRMAA on the same cell, in the same run.

    python bench/bench_sge.py [--jobs 200] [--graph-jobs 1000] [--sleepers 8 --sleep 15]

Prints three figures (targets in brackets):

1. wall time of N trivial Python jobs submitted and waited for with raw DRMAA, and of
   an N-node flowmill workflow of independent nodes (``plugin="sge"``): flowmill's
   overhead over raw DRMAA [<= 20 %];
2. submission rate of ``graph=True`` for M independent nodes (from ``wf.run`` called to
   every job queued) against raw ``runJob`` of M jobs; both submit held jobs (``-h``)
   that are deleted afterwards [>= 80 % of raw];
3. CPU used by the driver (and its DRMAA helper) while jobs run [< 2 %].

Needs a running cell (``bash scripts/sge/start.sh``). Raw DRMAA runs in a child
process started with the environment libdrmaa needs, as flowmill's helper is.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

TRIVIAL = "print(6 * 7)"


def raw_drmaa(jobs: int, mode: str, workdir: str) -> dict[str, float]:
    """In a child process: submit ``jobs`` jobs with DRMAA; ``run`` waits for them,
    ``submit`` only times held submissions and deletes them."""
    import drmaa

    session = drmaa.Session()
    session.initialize()
    template = session.createJobTemplate()
    template.remoteCommand = sys.executable
    template.args = ["-c", TRIVIAL]
    template.nativeSpecification = "-b y" + (" -h" if mode == "submit" else "")
    template.workingDirectory = workdir
    template.outputPath = ":/dev/null"
    template.errorPath = ":/dev/null"
    template.jobEnvironment = {"PATH": os.environ["PATH"]}
    started = time.perf_counter()
    ids = [session.runJob(template) for _ in range(jobs)]
    submitted = time.perf_counter() - started
    if mode == "run":
        session.synchronize([drmaa.Session.JOB_IDS_SESSION_ALL], drmaa.Session.TIMEOUT_WAIT_FOREVER, True)
    else:
        session.control(drmaa.Session.JOB_IDS_SESSION_ALL, drmaa.JobControlAction.TERMINATE)
    total = time.perf_counter() - started
    session.exit()
    return {"submit_seconds": submitted, "total_seconds": total, "jobs": len(ids)}


def run_raw(jobs: int, mode: str) -> dict[str, float]:
    from flowmill_sge._locate import locate

    env = locate().helper_environment(os.environ)
    with tempfile.TemporaryDirectory() as workdir:
        out = subprocess.run([sys.executable, __file__, "--raw", mode, "--jobs", str(jobs), "--workdir", workdir],
                             env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def answer(i: int) -> int:
    return i * 42


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def independent(base: Path, name: str, count: int, func: Callable[..., object],
                inputs: Callable[[int], dict[str, object]]) -> Any:
    """A workflow of ``count`` unconnected nodes: the widest possible fan-out."""
    from flowmill import Node, Workflow

    wf = Workflow(name, base_dir=base)
    for i in range(count):
        node = Node(func, name=f"n{i}")
        for key, value in inputs(i).items():
            setattr(node.inputs, key, value)
        wf.add_nodes([node])
    return wf


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


SGE_ENV = {**os.environ, "SGE_ROOT": os.environ.get("SGE_ROOT", "/var/lib/gridengine"),
           "SGE_CELL": os.environ.get("SGE_CELL", "default")}


def wait_for_empty_queue() -> None:
    """Until this user's jobs are gone (the cell may be shared: others' jobs are not ours to wait for)."""
    while subprocess.run(["qstat", "-u", getpass.getuser()], capture_output=True, text=True,
                         env=SGE_ENV).stdout.strip():
        time.sleep(1)


def delete_recorded(workflow_dir: Path) -> None:
    """Delete the jobs a ``wait=False`` run left queued, by the ids it recorded."""
    ids = {json.loads(record.read_text())["sge_job_id"] for record in workflow_dir.rglob("sge_job.json")}
    subprocess.run(["qdel", *sorted(ids)], capture_output=True, env=SGE_ENV)


def spread(rates: list[float]) -> str:
    return (f"best {max(rates):.0f}, median {statistics.median(rates):.0f}, range {min(rates):.0f}-{max(rates):.0f} "
            f"({', '.join(f'{r:.0f}' for r in rates)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--graph-jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved raw/flowmill rounds of the submission test: the qmaster's rate swings "
                             "by 10x from second to second here, so one round proves little")
    parser.add_argument("--sleepers", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=15.0)
    parser.add_argument("--raw", choices=["run", "submit"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        print(json.dumps(raw_drmaa(args.jobs, args.raw, args.workdir)))
        return

    base = Path(tempfile.mkdtemp(prefix="flowmill-bench-sge-"))
    print(f"flowmill sge benchmark: {args.jobs} jobs, graph submission of {args.graph_jobs}, "
          f"{os.cpu_count()} cores; results under {base}")

    raw = run_raw(args.jobs, "run")
    started = time.perf_counter()
    independent(base, "fanout", args.jobs, answer, lambda i: {"i": i}).run(plugin="sge")
    flow = time.perf_counter() - started
    overhead = (flow - raw["total_seconds"]) / raw["total_seconds"]
    print(f"1. {args.jobs} trivial jobs: raw DRMAA {raw['total_seconds']:.1f} s, flowmill {flow:.1f} s "
          f"-> overhead {overhead:+.1%} (target <= +20%)")

    raw_rates, graph_rates = [], []
    for round_ in range(args.rounds):
        wait_for_empty_queue()  # deleting 1,000 jobs keeps the qmaster busy for a while
        raw_submit = run_raw(args.graph_jobs, "submit")
        raw_rates.append(args.graph_jobs / raw_submit["submit_seconds"])
        wait_for_empty_queue()
        wf = independent(base, f"graph{round_}", args.graph_jobs, answer, lambda i: {"i": i})
        started = time.perf_counter()
        res = wf.run(plugin="sge", graph=True, wait=False, qsub_args="-h")
        graph_seconds = time.perf_counter() - started
        delete_recorded(base / f"graph{round_}")
        graph_rates.append(len(res.pending) / graph_seconds)
    medians = statistics.median(graph_rates) / statistics.median(raw_rates)
    print(f"2. graph submission of {args.graph_jobs} jobs in {args.rounds} interleaved rounds, jobs/s: raw runJob "
          f"{spread(raw_rates)}; flowmill graph=True (whole wf.run) {spread(graph_rates)} -> best round "
          f"{max(graph_rates) / max(raw_rates):.0%} of raw's best, median {medians:.0%} of raw's (target >= 80%)")
    wait_for_empty_queue()

    wf = independent(base, "sleepers", args.sleepers, nap, lambda i: {"seconds": args.sleep})
    cpu_before, started = cpu_seconds(), time.perf_counter()
    wf.run(plugin="sge")
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    print(f"3. driver + DRMAA helper CPU while {args.sleepers} jobs sleep {args.sleep:.0f} s: {cpu:.2f} s CPU "
          f"over {wall:.1f} s -> {cpu / wall:.2%} (target < 2%)")


if __name__ == "__main__":
    main()
