"""Benchmark: flowmill on the ruffus backend against Ruffus itself, same work, same run.

Ruffus pauses 0.1 s before the first job of every task, so Ruffus run one task per
node pays ~0.1 s per node whatever the parallelism; flowmill groups sibling jobs and
fuses chains into few tasks. Workloads: a 1,000-node fan-out and a 200-node chain of
trivial nodes, and 16 independent nodes sleeping 0.5 s on 2 workers (ideal 4 s).

    python bench/bench_ruffus.py [--width 1000] [--length 200] [--mode multiprocess]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

from ruffus import Pipeline, pipeline_run

from flowmill import Node, Workflow
from flowmill.testing._workflows import chain, fan_out, inc

N_PROCS = 2


def nap(x: int, seconds: float = 0.5) -> int:
    time.sleep(seconds)
    return x


def sleepers(base_dir: Path, count: int) -> Workflow:
    wf = Workflow("sleep", base_dir=base_dir)
    for i in range(count):
        node = Node(nap, name=f"sleep{i}")
        node.inputs.x = i
        wf.add_nodes([node])
    return wf


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ruffus_one_task_per_node(parents: dict[str, list[str]], mode: str) -> float:
    """Ruffus alone: one parallel task per node calling the same trivial function."""
    pipeline = Pipeline(f"bench-{uuid.uuid4().hex}")
    tasks = {}
    for name, ups in parents.items():
        tasks[name] = pipeline.parallel(inc, [[1, 1]], name=name)
        if ups:
            tasks[name].follows(*(tasks[p] for p in ups))
    parallelism = {"multiprocess": N_PROCS} if mode == "multiprocess" else {"multithread": N_PROCS}
    return timed(lambda: pipeline_run(target_tasks=[], pipeline=pipeline, verbose=0, one_second_per_job=False,
                                      history_file=":memory:", checksum_level=0, **parallelism))


def flowmill_on_ruffus(wf: Workflow, mode: str) -> tuple[float, float]:
    """First run (everything executes) and rerun (everything cached)."""
    options = {"n_procs": N_PROCS, "mode": mode}
    first = timed(lambda: wf.run(plugin="ruffus", **options))
    again = timed(lambda: wf.run(plugin="ruffus", **options))
    return first, again


def report(label: str, nodes: int, seconds: float) -> None:
    print(f"  {label:<44} {seconds:8.2f} s  {1000 * seconds / nodes:8.2f} ms/node", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--mode", choices=["multiprocess", "multithread"], default="multiprocess")
    parser.add_argument("--skip-ruffus-alone", action="store_true", help="skip the slow one-task-per-node runs")
    args = parser.parse_args()
    print(f"n_procs={N_PROCS}, mode={args.mode}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shapes = {
            f"fan-out {args.width}": (fan_out(base, args.width), args.width + 1,
                                      {"root": [], **{f"leaf{i}": ["root"] for i in range(args.width)}}),
            f"chain {args.length}": (chain(base, args.length), args.length,
                                     {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(args.length)}),
        }
        for title, (wf, nodes, parents) in shapes.items():
            print(f"{title} ({nodes} nodes)")
            first, again = flowmill_on_ruffus(wf, args.mode)
            report("flowmill on ruffus, first run", nodes, first)
            report("flowmill on ruffus, rerun (all cached)", nodes, again)
            if not args.skip_ruffus_alone:
                report("Ruffus alone, one task per node", nodes, ruffus_one_task_per_node(parents, args.mode))
        print("sleep: 16 nodes x 0.5 s on n_procs=2 (ideal 4.00 s)")
        wf = sleepers(base, 16)
        seconds = timed(lambda: wf.run(plugin="ruffus", n_procs=N_PROCS, mode=args.mode))
        print(f"  flowmill on ruffus {seconds:8.2f} s  ({100 * (seconds / 4 - 1):+.1f} % over ideal)")


if __name__ == "__main__":
    main()
