"""The multiproc backend's options and what it declares it can do with them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import psutil

import flowmill.backend as api


def _total_memory_gb() -> float:
    return round(psutil.virtual_memory().total / 2**30, 2)


@dataclass(frozen=True)
class MultiProcOptions:
    """The pool's size. Both are budgets, not process counts: a node takes
    ``resources['cpus']`` (default 1) of ``n_procs`` and ``resources['mem_gb']``
    (default 0) of ``memory_gb`` while it runs. Both size the whole run's pool, so a
    node's ``plugin_args`` naming them is refused up front (it states its needs in
    ``resources``)."""

    n_procs: int = field(default_factory=lambda: os.cpu_count() or 1, metadata={
        "help": "cores the pool may use at once (default: every core of this machine)", "merge": "run-only"})
    memory_gb: float = field(default_factory=_total_memory_gb, metadata={
        "help": "GiB of memory the running nodes may ask for together (default: this machine's total)",
        "merge": "run-only"})

    def __post_init__(self) -> None:
        if self.n_procs < 1:
            raise ValueError(f"n_procs must be at least 1, got {self.n_procs}")
        if self.memory_gb <= 0:
            raise ValueError(f"memory_gb must be positive, got {self.memory_gb}")


def capabilities(options: MultiProcOptions) -> api.Capabilities:
    """Jobs run in worker processes the driver can kill: picklable jobs, timeouts by
    cancel, starts reported; a node asking more than the pool has is refused up front."""
    return api.Capabilities(needs_pickle=True, shared_fs=False, timeouts="cancel", reports_starts=True,
                            max_jobs=True, cpus=options.n_procs, mem_gb=options.memory_gb)
