"""Typed per-node resource requests that every backend reads the same way.

Backends translate them into their own terms (SGE: ``-pe``, ``-l h_vmem``, ``-l h_rt``);
keeping the vocabulary in the core means a pipeline states its needs once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .._errors import ValidationError

_WALLTIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


@dataclass(frozen=True)
class Resources:
    """What one node needs: ``cpus`` cores, ``mem_gb`` GiB of memory, ``walltime``
    as ``HH:MM:SS``. ``None`` means "whatever the backend gives by default"."""

    cpus: int | None = None
    mem_gb: float | None = None
    walltime: str | None = None

    @classmethod
    def parse(cls, node: str, value: "Resources | Mapping[str, Any] | None") -> "Resources":
        if value is None:
            return cls()
        if isinstance(value, Resources):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(f"node {node!r}: resources must be a dict such as "
                                  "{'cpus': 2, 'mem_gb': 4, 'walltime': '01:00:00'}, "
                                  f"not {type(value).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValidationError(f"node {node!r}: unknown resource(s) {unknown}; "
                                  f"valid resources are {sorted(known)}")
        cpus, mem_gb, walltime = value.get("cpus"), value.get("mem_gb"), value.get("walltime")
        if cpus is not None and (not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1):
            raise ValidationError(f"node {node!r}: resources['cpus'] must be a positive int, got {cpus!r}")
        if mem_gb is not None and (not isinstance(mem_gb, (int, float)) or isinstance(mem_gb, bool)
                                   or mem_gb <= 0):
            raise ValidationError(f"node {node!r}: resources['mem_gb'] must be a positive number, got {mem_gb!r}")
        if walltime is not None and (not isinstance(walltime, str) or not _WALLTIME.match(walltime)):
            raise ValidationError(f"node {node!r}: resources['walltime'] must be 'HH:MM:SS', got {walltime!r}")
        return cls(cpus=cpus, mem_gb=float(mem_gb) if mem_gb is not None else None, walltime=walltime)
