"""A small pipeline of Python functions: per-subject preprocessing, then a group mean.

Run it twice: the second run reuses every result from the cache.

    python examples/quickstart.py [--base-dir DIR] [--plugin NAME]
"""

from __future__ import annotations

import argparse
import statistics

from flowmill import Node, Workflow


def load_scan(subject: str, n_voxels: int = 1000) -> list[float]:
    """A stand-in for reading an image: deterministic voxel values per subject."""
    seed = sum(ord(c) for c in subject)
    return [((seed * (i + 1)) % 97) / 97.0 for i in range(n_voxels)]


def smooth(values: list[float], width: int = 3) -> list[float]:
    half = width // 2
    return [statistics.fmean(values[max(0, i - half): i + half + 1]) for i in range(len(values))]


def summarize(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.pstdev(values)


def group_mean(a: float, b: float, c: float) -> float:
    return (a + b + c) / 3


def build(base_dir: str) -> Workflow:
    wf = Workflow("quickstart", base_dir=base_dir)
    group = Node(group_mean, name="group")
    for field, subject in zip("abc", ["sub-01", "sub-02", "sub-03"]):
        load = Node(load_scan, name=f"load_{subject.replace('-', '')}")
        load.inputs.subject = subject
        smoothing = Node(smooth, name=f"smooth_{subject.replace('-', '')}")
        stats = Node(summarize, name=f"stats_{subject.replace('-', '')}", outputs=["mean", "std"])
        wf.connect([(load, smoothing, [("out", "values")]), (smoothing, stats, [("out", "values")]),
                    (stats, group, [("mean", field)])])
    return wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", default="flowmill-work")
    parser.add_argument("--plugin", default="linear")
    args = parser.parse_args()
    wf = build(args.base_dir)
    first = wf.run(plugin=args.plugin)
    print(f"group mean of smoothed scans: {first['group'].out:.6f}")
    print(f"first run:  ran {len(first.executed)} nodes, reused {len(first.cached)} from the cache")
    second = build(args.base_dir).run(plugin=args.plugin)
    print(f"second run: ran {len(second.executed)} nodes, reused {len(second.cached)} from the cache")
    print(f"results are in {first.workflow_dir}")


if __name__ == "__main__":
    main()
