"""Named setups for the documentation's code blocks (``<!-- setup: NAME -->`` above a
block, see tests/doc_blocks.py): python run just before a snippet that, in the docs,
continues a workflow the reader already has."""

from __future__ import annotations

SETUPS = {
    "wf": '''
from flowmill import Node, Workflow

def double(x: int) -> int:
    return 2 * x

wf = Workflow("snippet", base_dir="work")
first = Node(double, name="first")
first.inputs.x = 1
second = Node(double, name="second")
wf.connect(first, "out", second, "x")
''',
    "scans": '''
from pathlib import Path

Path("data").mkdir()
for name in ["data/scan.txt", "a.txt", "b.txt", "c.txt"]:
    Path(name).write_text(f"the content of {name}\\n" * 20)
''',
    "ipcluster-config": '''
import atexit, os, sys
import ipyparallel.cluster.launcher as launchers
from ipyparallel.cluster import Cluster
from traitlets.config import Config

config = Config()

def get_config() -> Config:
    return config

@atexit.register
def check() -> None:
    for section, settings in config.items():
        owner = Cluster if section == "Cluster" else getattr(launchers, section, None)
        known = set(owner.class_trait_names(config=True)) if owner else set()
        if set(settings) - known:
            print(f"not settings of ipyparallel's {section}: {sorted(set(settings) - known)}", file=sys.stderr)
            os._exit(1)
''',
}
"""What each name defines: ``wf``, a two-node workflow (``first`` -> ``second``, both
``double``); ``scans``, the input files the command node examples read;
``ipcluster-config``, the ``get_config()`` of an ipcluster_config.py, which checks at
exit that every setting names a configurable of ipyparallel (ipcluster ignores a
misspelt one with a mere warning)."""
