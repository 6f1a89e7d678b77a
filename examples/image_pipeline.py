"""An image pipeline of real command-line tools (netpbm, awk), swept over scans and
smoothing widths.

Every scan is upsampled, then smoothed at each width; each smoothed image is measured
(its mean intensity), the images of one width are put side by side in a montage (a
PNG), and the means are gathered into a table. Each step is a :class:`CommandNode`
running a Debian tool in its own directory; rerunning reuses everything, and changing
one scan reruns only what depends on it. Install the tools first (idempotent):

    bash examples/install_tools.sh
    python examples/image_pipeline.py [--base-dir DIR] [--plugin NAME] [--widths 3 7]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from flowmill import CommandNode, CommandTask, File, JoinNode, Workflow

SCANS = ("sub-01", "sub-02", "sub-03")


def write_scan(path: Path, seed: int, size: int = 48) -> Path:
    """A stand-in for an acquired scan: a bright disc on a noisy background, as a
    binary PGM (the format netpbm reads)."""
    rng = random.Random(seed)
    radius = size / 4 + seed % 5
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 <= radius ** 2
            pixels.append(min(255, (180 if inside else 40) + rng.randrange(60)))
    path.write_bytes(b"P5\n%d %d\n255\n" % (size, size) + bytes(pixels))
    return path


def make_scans(directory: Path) -> list[File]:
    """Write the scans once; an existing scan is left as it is (edit one to see the
    cache rerun only its branch)."""
    directory.mkdir(parents=True, exist_ok=True)
    return [File(path if path.exists() else write_scan(path, seed))
            for seed, path in enumerate((directory / f"{name}.pgm").absolute() for name in SCANS)]


def build(base_dir: Path, scans: list[File], widths: list[int]) -> Workflow:
    wf = Workflow("images", base_dir=base_dir)
    upsample = CommandNode(["pamscale", "2", "{in_file}"], name="upsample", inputs={"in_file": File},
                           outputs={"out_file": "{in_file.stem}_x2.pgm"}, stdout="out_file")
    upsample.iterables = ("in_file", scans)
    smooth = CommandNode(["pnmsmooth", "-width", "{width}", "-height", "{width}", "{in_file}"], name="smooth",
                         inputs={"in_file": File, "width": (int, 3)},
                         outputs={"out_file": "{in_file.stem}_s{width}.pgm"}, stdout="out_file")
    smooth.iterables = ("width", widths)
    measure = CommandNode(["pamsumm", "-mean", "-brief", "{in_file}"], name="measure", inputs={"in_file": File},
                          outputs={"mean": "{in_file.stem}.mean"}, stdout="mean")
    montage = JoinNode(CommandTask(["pamcat", "-leftright", "{images}"], inputs={"images": list[File]},
                                   outputs={"out_file": "montage.pnm"}, stdout="out_file"),
                       name="montage", joinsource=upsample, joinfield="images")
    to_png = CommandNode(["pnmtopng", "{in_file}"], name="to_png", inputs={"in_file": File},
                         outputs={"png": "{in_file.stem}.png"}, stdout="png")
    table = JoinNode(CommandTask(["awk", "{{ print FILENAME, $1 }}", "{means}"], inputs={"means": list[File]},
                                 outputs={"table": "means.txt"}, stdout="table"),
                     name="table", joinsource=upsample, joinfield="means")
    wf.connect([
        (upsample, smooth, [("out_file", "in_file")]),
        (smooth, measure, [("out_file", "in_file")]),
        (smooth, montage, [("out_file", "images")]),
        (montage, to_png, [("out_file", "in_file")]),
        (measure, table, [("mean", "means")]),
    ])
    return wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, default=Path("flowmill-work"))
    parser.add_argument("--plugin", default="linear")
    parser.add_argument("--widths", type=int, nargs="+", default=[3, 7])
    args = parser.parse_args()
    scans = make_scans(args.base_dir / "scans")
    first = build(args.base_dir, scans, args.widths).run(plugin=args.plugin)
    for element in first["to_png"]:
        print(f"montage {element.params}: {element.outputs.png}")
    for element in first["table"]:
        print(f"mean intensities {element.params}:")
        for line in element.outputs.table.read_text().splitlines():
            path, mean = line.split()
            print(f"  {Path(path).name:<22} {float(mean):8.3f}")
    print(f"first run:  ran {len(first.executed)} nodes, reused {len(first.cached)} from the cache")
    second = build(args.base_dir, scans, args.widths).run(plugin=args.plugin)
    print(f"second run: ran {len(second.executed)} nodes, reused {len(second.cached)} from the cache")


if __name__ == "__main__":
    main()
