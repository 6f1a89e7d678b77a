"""The ruffus backend's options, checked before the pipeline is built."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FLOWCHART_FORMATS = {".dot": "dot", ".svg": "svg", ".png": "png", ".jpg": "jpg", ".ps": "ps"}
"""File suffixes Ruffus' ``pipeline_printout_graph`` can write, and its format names.
All but ``dot`` are rendered by Graphviz's ``dot`` program."""


@dataclass(frozen=True)
class RuffusOptions:
    """Options of ``wf.run(plugin='ruffus', ...)``.

    They apply to the whole run: Ruffus schedules the graph as one pipeline, so a node
    cannot have its own ``n_procs`` or ``mode``.
    """

    n_procs: int = field(default=os.cpu_count() or 1, metadata={
        "merge": "run-only",
        "help": "jobs Ruffus runs at once (its multiprocess= or multithread= argument)"})
    mode: Literal["multiprocess", "multithread"] = field(default="multiprocess", metadata={
        "merge": "run-only",
        "help": "run jobs in a pool of worker processes, or of threads of the driver process"})
    printout: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "write Ruffus' pipeline_printout of the tasks and jobs it will run to this file ('-': stdout)"})
    flowchart: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "write Ruffus' flowchart of the pipeline to this file (.dot, or .svg/.png/.jpg/.ps with Graphviz)"})
    dry_run: bool = field(default=False, metadata={
        "merge": "run-only",
        "help": "build the pipeline and write printout/flowchart, but run nothing (nodes to run stay pending)"})

    def __post_init__(self) -> None:
        if self.n_procs < 1:
            raise ValueError(f"n_procs={self.n_procs} must be at least 1 (the number of jobs run at once)")
        if self.flowchart is not None:
            suffix = Path(self.flowchart).suffix.lower()
            if suffix not in FLOWCHART_FORMATS:
                raise ValueError(f"flowchart={self.flowchart!r}: Ruffus writes flowcharts as "
                                 f"{', '.join(FLOWCHART_FORMATS)}; give the file one of these suffixes")
            if suffix != ".dot" and shutil.which("dot") is None:
                raise ValueError(f"flowchart={self.flowchart!r}: a {suffix} flowchart is rendered by Graphviz's "
                                 "'dot' program, which is not on PATH; install it (apt-get install graphviz) "
                                 "or write a .dot file")
        if self.dry_run and self.printout is None and self.flowchart is None:
            raise ValueError("dry_run=True shows what Ruffus would run; also give printout='-' (or a file) "
                             "and/or flowchart='FILE.dot'")

    @property
    def flowchart_format(self) -> str:
        return FLOWCHART_FORMATS[Path(self.flowchart or ".dot").suffix.lower()]
