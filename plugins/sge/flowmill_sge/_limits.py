"""Grid Engine's limits of a job, read back from its native specification, to name the
one that killed it.

Grid Engine kills a job at its ``h_rt`` or over its ``h_vmem`` with a plain SIGKILL:
DRMAA tells neither apart from the kernel's OOM killer or a ``kill -9``. The job's
accounting does: its wall clock against ``h_rt``, its peak virtual memory
(``maxvmem``) against ``h_vmem``. ``h_vmem`` is also the job's address-space limit
(``ulimit -v``), so a Python node that allocates past it gets a MemoryError instead
of the kill; the crash file then says which limit that was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

H_RT_MARGIN = 1.0
"""Seconds of slack when comparing a killed job's wall clock with its ``h_rt``:
Grid Engine accounts whole seconds."""

VMEM_MARGIN = 0.9
"""A kill counts as the memory limit's when the peak reached this share of it: the
execd samples usage every second or so, and kills before the last sample."""

_UNITS = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "t": 1000 ** 4,
          "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
"""Grid Engine's memory suffixes: lower case are powers of 1000, upper case of 1024."""


def memory_bytes(text: str) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*([kmgtKMGT]?)\s*", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def time_seconds(text: str) -> float | None:
    """``h_rt`` as seconds: ``90``, ``1:30`` or ``0:01:30``."""
    try:
        seconds = 0.0
        for part in text.strip().split(":"):
            seconds = seconds * 60 + float(part or 0)
        return seconds
    except ValueError:
        return None


def readable(size: float) -> str:
    """A byte count the way Grid Engine writes it (677M, 1.5G)."""
    for unit, scale in (("G", 1024 ** 3), ("M", 1024 ** 2), ("K", 1024)):
        if size >= scale:
            return f"{size / scale:.3g}{unit}"
    return f"{size:.0f}"


@dataclass(frozen=True)
class Limits:
    """The ``h_vmem`` and ``h_rt`` a job was submitted with (as written there)."""

    h_vmem: str | None = None
    h_rt: str | None = None

    @classmethod
    def of(cls, native: Sequence[str]) -> "Limits":
        """From native specification tokens; the last ``-l`` naming a resource wins, as in qsub."""
        found: dict[str, str] = {}
        for flag, value in zip(native, native[1:]):
            if flag == "-l":
                for item in value.split(","):
                    name, _, amount = item.partition("=")
                    if name.strip() in ("h_vmem", "h_rt"):
                        found[name.strip()] = amount.strip()
        return cls(**found)

    def killed_by(self, info: dict[str, Any]) -> str | None:
        """"killed by SGE ..." naming the limit a SIGKILLed job reached, from its
        accounting; None if neither limit explains the kill."""
        if info.get("signal") != "SIGKILL":
            return None
        limit = memory_bytes(self.h_vmem) if self.h_vmem else None
        peak = info.get("maxvmem")
        if limit and peak and peak >= VMEM_MARGIN * limit:
            return f"killed by SGE: memory limit h_vmem={self.h_vmem} reached (maxvmem {readable(peak)})"
        seconds = time_seconds(self.h_rt) if self.h_rt else None
        wallclock = info.get("wallclock")
        if seconds and wallclock is not None and wallclock >= seconds - H_RT_MARGIN:
            return (f"killed by SGE at its h_rt limit of {seconds:g} s (qsub_args -l h_rt, or "
                    "node.resources['walltime'])")
        return None

    def memory_error_note(self) -> str | None:
        """For the crash file of a node that failed with a MemoryError."""
        if not self.h_vmem:
            return None
        return (f"the job ran under Grid Engine's memory limit h_vmem={self.h_vmem}, which is also its address-space "
                "limit (ulimit -v): ask for more with qsub_args -l h_vmem=..., or node.resources['mem_gb']")
