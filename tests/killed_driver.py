"""A driver for the driver-death tests: ``python -m tests.killed_driver BASE_DIR PLUGIN
[OPTION=VALUE ...]`` runs six independent nodes that each write ``started-I`` in
BASE_DIR, sleep 3 s and write ``done-I``; the test kills this process mid-run.
Option values are Python literals (``n_procs=2``, ``mode='multithread'``)."""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

from flowmill import Node, Workflow


def sleeper(index: int, base: str) -> int:
    (Path(base) / f"started-{index}").touch()
    time.sleep(3)
    (Path(base) / f"done-{index}").touch()
    return index


def main(base_dir: str, plugin: str, *options: str) -> None:
    wf = Workflow("killed", base_dir=base_dir)
    nodes = []
    for index in range(6):
        node = Node(sleeper, name=f"s{index}")
        node.inputs.index = index
        node.inputs.base = base_dir
        nodes.append(node)
    wf.add_nodes(nodes)
    values = {key: ast.literal_eval(value) for key, value in (option.split("=", 1) for option in options)}
    wf.run(plugin=plugin, **values)


if __name__ == "__main__":
    main(*sys.argv[1:])
