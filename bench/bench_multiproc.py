"""Benchmark: the multiproc backend beside flowmill on Ruffus and nipype's MultiProc,
on the same two workloads, in interleaved rounds (each measurement a fresh process, the
contenders' order rotating every round) so that all see the same machine load:

* fan-out: one root and WIDTH trivial leaves; the figure is wall time per node, i.e.
  the per-node overhead of the engine (scheduling, pickling, result files);
* sleep: 16 independent nodes sleeping 0.5 s on 2 workers; ideal 4.00 s.

The ``linear`` backend (one node after another in the driver) is the reference for
the fan-out's per-node cost; its sleep figure is the serial 8 s.

    python bench/bench_multiproc.py [--rounds 5] [--width 1000]
                                    [--nipype-python PY] [--nipype-width 200]

nipype is not a dependency of flowmill: give ``--nipype-python`` the interpreter of a
throwaway venv with ``pip install nipype`` to include it (it runs a narrower fan-out by
default, since its per-node cost makes 1,000 nodes take minutes). The report gives each
figure as the median and the range over the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_PROCS = 2
SLEEPERS, NAP = 16, 0.5


def nap(x, seconds):
    """Sleep; self-contained, since nipype's Function runs its source text anew."""
    import time

    time.sleep(seconds)
    return x


def inc(x):
    return x + 1


def flowmill_run(backend: str, workload: str, width: int, base_dir: str) -> tuple[float, int]:
    from flowmill import Node, Workflow
    from flowmill.testing._workflows import fan_out

    options = {"linear": {}, "multiproc": {"n_procs": N_PROCS},
               "ruffus": {"n_procs": N_PROCS, "mode": "multiprocess"}}[backend]
    if workload == "fanout":
        wf, nodes = fan_out(Path(base_dir), width), width + 1
    else:
        wf, nodes = Workflow("sleep", base_dir=base_dir), SLEEPERS
        for i in range(SLEEPERS):
            node = Node(nap, name=f"sleep{i}")
            node.inputs.x, node.inputs.seconds = i, NAP
            wf.add_nodes([node])
    start = time.perf_counter()
    wf.run(plugin=backend, **options)
    return time.perf_counter() - start, nodes


def nipype_run(workload: str, width: int, base_dir: str) -> tuple[float, int]:
    from nipype import Function, Node, Workflow

    wf = Workflow(workload, base_dir=base_dir)
    if workload == "fanout":
        root = Node(Function(["x"], ["out"], inc), name="root")
        root.inputs.x = 0
        for i in range(width):
            wf.connect(root, "out", Node(Function(["x"], ["out"], inc), name=f"leaf{i}"), "x")
        nodes = width + 1
    else:
        for i in range(SLEEPERS):
            node = Node(Function(["x", "seconds"], ["out"], nap), name=f"sleep{i}")
            node.inputs.x, node.inputs.seconds = i, NAP
            wf.add_nodes([node])
        nodes = SLEEPERS
    start = time.perf_counter()
    wf.run(plugin="MultiProc", plugin_args={"n_procs": N_PROCS})
    return time.perf_counter() - start, nodes


def child(contender: str, workload: str, width: int, base_dir: str) -> None:
    if contender == "nipype":
        seconds, nodes = nipype_run(workload, width, base_dir)
    else:
        seconds, nodes = flowmill_run(contender, workload, width, base_dir)
    print(json.dumps({"seconds": seconds, "nodes": nodes}))


def measure(python: str, contender: str, workload: str, width: int, scratch: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=scratch) as base_dir:
        done = subprocess.run([python, __file__, "--child", contender, workload, str(width), base_dir],
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    scaled = [v * scale for v in values]
    return f"{statistics.median(scaled):.{digits}f} [{min(scaled):.{digits}f}-{max(scaled):.{digits}f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--nipype-python", help="python of a venv with nipype installed")
    parser.add_argument("--nipype-width", type=int, default=200)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        contender, workload, width, base_dir = args.child
        child(contender, workload, int(width), base_dir)
        return
    contenders = {name: (sys.executable, args.width) for name in ("multiproc", "ruffus", "linear")}
    if args.nipype_python:
        contenders["nipype"] = (args.nipype_python, args.nipype_width)
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    scratch = Path(__file__).parent / ".work"
    scratch.mkdir(exist_ok=True)
    names = list(contenders)
    for round_no in range(args.rounds):
        order = names[round_no % len(names):] + names[:round_no % len(names)]
        for name in order:
            python, width = contenders[name]
            for workload in ("fanout", "sleep"):
                figures.setdefault((name, workload), []).append(measure(python, name, workload, width, scratch))
    print(f"n_procs={N_PROCS}, {args.rounds} interleaved rounds, median [min-max]")
    for name, (_, width) in contenders.items():
        fan = figures[(name, "fanout")]
        sleep = [r["seconds"] for r in figures[(name, "sleep")]]
        per_node = [r["seconds"] / r["nodes"] for r in fan]
        over = [100 * (s / (SLEEPERS * NAP / N_PROCS) - 1) for s in sleep]
        print(f"{name:<10} fan-out {width + 1} nodes: {spread(per_node, 1000)} ms/node   "
              f"sleep 16x0.5 s: {spread(sleep)} s ({spread(over, digits=0)} % over ideal)")


if __name__ == "__main__":
    main()
