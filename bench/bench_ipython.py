"""Benchmark of the ipython backend against raw ipyparallel, on one local cluster of 2
engines started here (the issue's targets in brackets):

1. throughput of trivial tasks: raw ``apply_async`` on a load-balanced view, then a
   2,000-node fan-out of trivial flowmill nodes   [flowmill >= 50 % of raw]
2. sleep workload: 16 nodes x 0.5 s on 2 engines    [within 10 % of the ideal 4 s]
3. driver CPU while the engines run long nodes     [< 5 %]

Run: ``python bench/bench_ipython.py [--nodes 2000]``. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from concurrent import futures
from pathlib import Path

import ipyparallel

from flowmill import Node, Workflow


def trivial(x: int) -> int:
    return x


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def raw_throughput(client: ipyparallel.Client, n: int) -> float:
    view = client.load_balanced_view()
    started = time.perf_counter()
    results = [view.apply_async(trivial, i) for i in range(n)]
    futures.wait(results)
    elapsed = time.perf_counter() - started
    assert [r.get() for r in results] == list(range(n))
    return n / elapsed


def fan_out(base_dir: Path, name: str, func: object, count: int, **inputs: object) -> Workflow:
    wf = Workflow(name, base_dir=base_dir)
    for i in range(count):
        node = Node(func, name=f"n{i}")
        for key, value in inputs.items():
            setattr(node.inputs, key, value)
        if not inputs:
            node.inputs.x = i
        wf.add_nodes([node])
    return wf


def timed_run(wf: Workflow, url_file: str) -> tuple[float, float]:
    """Wall and driver CPU seconds of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    wf.run(plugin="ipython", url_file=url_file)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=2000, help="width of the trivial fan-out")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ipython-"))
    cluster = ipyparallel.Cluster(n=2, profile_dir=str(work / "profile"), cluster_id="bench", delay=0,
                                  log_level=logging.WARNING)
    client = cluster.start_and_connect_sync()
    url_file = str(work / "profile" / "security" / "ipcontroller-bench-client.json")
    try:
        raw_throughput(client, 200)
        raw = raw_throughput(client, args.nodes)
        wall, _ = timed_run(fan_out(work, "fanout", trivial, args.nodes), url_file)
        ours = args.nodes / wall
        print(f"raw ipyparallel apply_async, {args.nodes} trivial tasks on 2 engines: {raw:7.1f} tasks/s")
        print(f"flowmill ipython, {args.nodes}-node fan-out of trivial nodes:      {ours:7.1f} nodes/s "
              f"= {100 * ours / raw:.0f} % of raw (target >= 50 %)")
        wall, _ = timed_run(fan_out(work, "sleeps", nap, 16, seconds=0.5), url_file)
        print(f"sleep workload, 16 nodes x 0.5 s on 2 engines: {wall:.2f} s = {100 * (wall / 4 - 1):+.1f} % "
              "of the ideal 4 s (target within 10 %)")
        wall, cpu = timed_run(fan_out(work, "long", nap, 2, seconds=10.0), url_file)
        print(f"driver CPU while 2 engines run 10 s nodes: {cpu:.3f} s over {wall:.1f} s = "
              f"{100 * cpu / wall:.2f} % (target < 5 %)")
    finally:
        client.close()
        cluster.stop_engines_sync()
        cluster.stop_controller_sync()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
