"""Engine overhead on the linear backend, with caching on (issue 3's targets).

    python bench/bench_core.py [--quick] [--quiet] [--base-dir DIR]

Node directories go under ``--base-dir`` (default: ``bench/.work`` in the checkout):
on this machine /tmp creates files and directories ~30x slower than the disk the
checkout is on, which would measure the file system rather than the engine.

Prints, per workload: wall time, per-node engine overhead (wall time minus the
functions' own time), the fully cached rerun, and the driver's peak RSS. Each size
runs in a fresh process so RSS figures do not mix. Targets: overhead <= 0.5 ms/node on
a 1,000-node fan-out; cached rerun <= 0.5 s; 100,000 nodes (fan-out and chain) under
1 GiB RSS, doubling the nodes at most doubling the time; a 3 x 30 iterables sweep
(27,000 expanded nodes) expands in under 3 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowmill import Node, Workflow

CALL_TIME: list[float] = []


def trivial(x: int, i: int = 0) -> int:
    return x + i


def build(shape: str, n: int, base_dir: Path) -> Workflow:
    wf = Workflow(f"{shape}{n}", base_dir=base_dir)
    root = Node(trivial, name="root")
    root.inputs.x = 0
    wf.add_nodes([root])
    previous = root
    for i in range(n - 1):
        node = Node(trivial, name=f"n{i}")
        node.inputs.i = i
        wf.connect(root if shape == "fanout" else previous, "out", node, "x")
        previous = node
    return wf


def function_time(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        trivial(i, i)
    return time.perf_counter() - start


def measure(shape: str, n: int, base_dir: str, run_options: dict[str, bool]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=base_dir) as tmp:
        start = time.perf_counter()
        wf = build(shape, n, Path(tmp))
        built = time.perf_counter() - start
        start = time.perf_counter()
        res = wf.run(**run_options)
        ran = time.perf_counter() - start
        assert len(res.executed) == n
        rebuilt = build(shape, n, Path(tmp))
        start = time.perf_counter()
        again = rebuilt.run(**run_options)
        cached = time.perf_counter() - start
        assert len(again.cached) == n
    return {
        "nodes": n,
        "build_s": built,
        "run_s": ran,
        "overhead_ms_per_node": (ran - function_time(n)) / n * 1000,
        "cached_rerun_s": cached,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_sweep(base_dir: str) -> dict[str, float]:
    from flowmill.workflow.build import build_graph
    from flowmill.testing._workflows import parameter_sweep

    with tempfile.TemporaryDirectory(dir=base_dir) as tmp:
        wf = parameter_sweep(Path(tmp))
        start = time.perf_counter()
        graph = build_graph(wf, Path(tmp) / "sweep", "content")
        return {"expanded_nodes": len(graph), "expand_s": time.perf_counter() - start}


def child(args: list[str], base_dir: str, quiet: bool) -> None:
    if args[0] == "sweep":
        print(json.dumps(measure_sweep(base_dir)))
    else:
        print(json.dumps(measure(args[0], int(args[1]), base_dir, {"progress": False} if quiet else {})))


def run_child(base_dir: str, quiet: bool, *args: str) -> dict[str, float]:
    flags = ["--quiet"] if quiet else []
    done = subprocess.run([sys.executable, __file__, "--base-dir", base_dir, *flags, "--child", *args],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100,000 and 200,000-node runs")
    parser.add_argument("--base-dir", default=str(Path(__file__).parent / ".work"))
    parser.add_argument("--quiet", action="store_true", help="run with progress=False (the run records stay on)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Path(args.base_dir).mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, args.base_dir, args.quiet)
        return
    sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000, 200_000]
    print(f"{'workload':<16}{'nodes':>8}{'build s':>9}{'run s':>9}{'ms/node':>9}{'cached s':>10}{'RSS MiB':>9}")
    for shape in ("fanout", "chain"):
        for n in sizes:
            r = run_child(args.base_dir, args.quiet, shape, str(n))
            print(f"{shape:<16}{n:>8}{r['build_s']:>9.2f}{r['run_s']:>9.2f}{r['overhead_ms_per_node']:>9.3f}"
                  f"{r['cached_rerun_s']:>10.2f}{r['peak_rss_mib']:>9.0f}")
    sweep = run_child(args.base_dir, args.quiet, "sweep")
    print(f"iterables 3x30 sweep: {sweep['expanded_nodes']} expanded nodes in {sweep['expand_s']:.2f} s")


if __name__ == "__main__":
    main()
