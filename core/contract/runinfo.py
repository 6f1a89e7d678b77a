"""What observers learn about the run they watch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .options import RunOptions


@dataclass(frozen=True)
class RunInfo:
    """Identity of one ``Workflow.run`` call, passed to every event hook, with the
    options it runs with (``options.progress`` tells a display whether to show)."""

    run_id: str
    workflow: str
    workflow_dir: Path
    backend: str
    n_jobs: int
    options: RunOptions = field(default_factory=RunOptions)
    backend_options: Mapping[str, Any] = field(default_factory=dict)
