"""Compare two flowmill checkouts on one bench_core workload, in alternating rounds,
so that both sides see the same machine load:

    python bench/interleave.py OLD_PYTHON NEW_PYTHON [--rounds 7] [--workload fanout 1000]

Each Python is an interpreter whose ``flowmill`` is the checkout to measure (e.g. a
venv with that checkout installed editable). Each round runs one fresh child process
per side, in alternating order; the report gives per metric the median and the range
of each side and the ratio of medians (new / old).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).with_name("bench_core.py")
METRICS = ("overhead_ms_per_node", "cached_rerun_s")


def one(python: str, base_dir: str, workload: list[str]) -> dict[str, float]:
    done = subprocess.run([python, str(BENCH), "--base-dir", base_dir, "--child", *workload],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workload", nargs=2, default=["fanout", "1000"], metavar=("SHAPE", "NODES"))
    parser.add_argument("--base-dir", default=str(Path(__file__).parent / ".work"))
    args = parser.parse_args()
    Path(args.base_dir).mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(dir=args.base_dir) as tmp:
        for round_no in range(args.rounds):
            order = ("old", "new") if round_no % 2 == 0 else ("new", "old")
            for side in order:
                results[side].append(one(getattr(args, side), tmp, args.workload))
    print(f"{' '.join(args.workload)}, {args.rounds} interleaved rounds")
    for metric in METRICS:
        old = [r[metric] for r in results["old"]]
        new = [r[metric] for r in results["new"]]
        print(f"{metric:<22} old {statistics.median(old):.4f} [{min(old):.4f}-{max(old):.4f}]  "
              f"new {statistics.median(new):.4f} [{min(new):.4f}-{max(new):.4f}]  "
              f"new/old {statistics.median(new) / statistics.median(old):.3f}")


if __name__ == "__main__":
    sys.exit(main())
