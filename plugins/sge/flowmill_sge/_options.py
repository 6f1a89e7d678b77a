"""The options of the ``sge`` backend, one documented field each."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SGEOptions:
    """Options of ``wf.run(plugin="sge", ...)``. A node's ``plugin_args`` may carry any
    of them; ``qsub_args`` is then appended to the run's (or replaces it with
    ``"overwrite": True``). ``graph``, ``wait`` and ``dry_run`` act on the whole run and
    are only read from the run's options."""

    qsub_args: str = field(default="", metadata={
        "help": "qsub options for every job (the DRMAA native specification), e.g. '-q long.q -l h_vmem=4G'"})
    graph: bool = field(default=False, metadata={
        "help": "submit every job up front, held on its parents with -hold_jid (SGEGraph)"})
    wait: bool = field(default=True, metadata={
        "help": "with graph=True: False returns once everything is queued; a later run collects the results"})
    pe: str = field(default="smp", metadata={
        "help": "parallel environment that node.resources['cpus'] requests (-pe PE N)"})
    memory_flag: str = field(default="h_vmem", metadata={
        "help": "resource that node.resources['mem_gb'] sets (-l FLAG=...M), e.g. h_vmem, mem_free, m_mem_free"})
    memory_per_slot: bool = field(default=True, metadata={
        "help": "the memory resource counts per slot (as h_vmem does), so mem_gb is divided by cpus"})
    dry_run: bool = field(default=False, metadata={
        "help": "print each node's native specification and command instead of submitting anything"})
    scheduler_patience: float = field(default=120.0, metadata={
        "help": "seconds to keep retrying transient scheduler errors (qmaster restarting, timeouts)"})

    def __post_init__(self) -> None:
        if not self.wait and not self.graph:
            raise ValueError("wait=False needs graph=True: only jobs held on their parents by the scheduler "
                             "can go on without the driver")
        if self.scheduler_patience < 0:
            raise ValueError(f"scheduler_patience must be >= 0 seconds, got {self.scheduler_patience}")
