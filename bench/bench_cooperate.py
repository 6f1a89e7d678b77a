"""Drivers sharing a base_dir (issue 12): one driver versus two started together on
the same 1,000-node fan-out, on the linear backend.

    python bench/bench_cooperate.py [--nodes N] [--rounds R] [--base-dir DIR]

Each node sleeps 1 ms, so the figure weighs the locking, not the work. Two cooperating
drivers run every node once (the second waits on each node the first holds, then
reuses its result); the target is that they finish within 20 % of one driver alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DRIVER = """
import sys, time
from pathlib import Path
from flowmill import Node, Workflow

def work(x: int, i: int = 0) -> int:
    time.sleep(0.001)
    return x + i

base, n = sys.argv[1], int(sys.argv[2])
wf = Workflow("fanout", base_dir=base)
root = Node(work, name="root")
root.inputs.x = 0
for i in range(n - 1):
    node = Node(work, name=f"n{i}")
    node.inputs.i = i
    wf.connect(root, "out", node, "x")
wf.run()
"""


def wall(drivers: int, nodes: int, base_dir: str) -> float:
    """Seconds until every one of ``drivers`` drivers started together has finished."""
    with tempfile.TemporaryDirectory(dir=base_dir) as tmp:
        script = Path(tmp) / "driver.py"
        script.write_text(DRIVER)
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, str(script), tmp, str(nodes)]) for _ in range(drivers)]
        if any(proc.wait() for proc in procs):
            raise SystemExit("a driver failed")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base-dir", default=str(Path(__file__).parent / ".work"))
    args = parser.parse_args()
    Path(args.base_dir).mkdir(parents=True, exist_ok=True)
    one, two = [], []
    for _ in range(args.rounds):
        one.append(wall(1, args.nodes, args.base_dir))
        two.append(wall(2, args.nodes, args.base_dir))
    for label, times in (("one driver", one), ("two drivers", two)):
        print(f"{label:<12} median {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f})")
    print(f"two / one: {statistics.median(two) / statistics.median(one):.2f}")


if __name__ == "__main__":
    main()
