"""What observers learn about the run they watch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunInfo:
    """Identity of one ``Workflow.run`` call, passed to every event hook."""

    run_id: str
    workflow: str
    workflow_dir: Path
    backend: str
    n_jobs: int
