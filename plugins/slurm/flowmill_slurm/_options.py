"""The options of the ``slurm`` backend, one documented field each."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SlurmOptions:
    """Options of ``wf.run(plugin="slurm", ...)``. A node's ``plugin_args`` may carry
    ``sbatch_args`` (appended to the run's); the others act on the whole run."""

    sbatch_args: str = field(default="", metadata={
        "help": "sbatch options for every job, split with shlex (never a shell), e.g. '-p long --gres=gpu:1'"})
    graph: bool = field(default=False, metadata={
        "merge": "run-only",
        "help": "submit every job up front, each waiting on its parents with --dependency=afterok (SLURMGraph)"})
    wait: bool = field(default=True, metadata={
        "merge": "run-only",
        "help": "with graph=True: False returns once everything is queued; a later run re-attaches"})
    poll_interval: float = field(default=1.0, metadata={
        "merge": "run-only",
        "help": "seconds between the batched squeue queries at least (the highest query rate)"})
    poll_most: float = field(default=10.0, metadata={
        "merge": "run-only", "help": "seconds between squeue queries at most, backing off while nothing changes"})
    dry_run: bool = field(default=False, metadata={
        "merge": "run-only", "help": "print each job's exact sbatch line instead of submitting anything"})
    scheduler_patience: float = field(default=120.0, metadata={
        "merge": "run-only",
        "help": "seconds to keep retrying transient scheduler errors (slurmctld restarting, socket timeouts)"})

    def __post_init__(self) -> None:
        if not self.wait and not self.graph:
            raise ValueError("wait=False needs graph=True: only jobs that wait on their parents in Slurm "
                             "can go on without the driver")
        if self.poll_interval <= 0 or self.poll_most < self.poll_interval:
            raise ValueError(f"need 0 < poll_interval <= poll_most, got {self.poll_interval} and {self.poll_most}")
        if self.scheduler_patience < 0:
            raise ValueError(f"scheduler_patience must be >= 0 seconds, got {self.scheduler_patience}")
