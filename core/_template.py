"""``flowmill new-backend NAME [DIR]``: a backend distribution that installs, is listed
by ``flowmill plugins`` and passes the conformance kit unchanged, to start from: a
pyproject with the entry point, an options dataclass with help, a job-level executor
running each job as ``python -m flowmill.worker JOBFILE``, and a test module
subclassing ``ConformanceSuite``."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ._errors import ValidationError

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "flowmill-{name}"
version = "0.1.0"
description = "The {name} backend for flowmill"
requires-python = ">=3.11"
dependencies = ["flowmill"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."flowmill.plugins"]
{name} = "flowmill_{module}"

[tool.setuptools]
packages = ["flowmill_{module}"]
'''

PLUGIN = '''\
"""The {name} backend: each job runs as ``python -m flowmill.worker JOBFILE`` in a
process of its own, at most ``workers`` at once. Replace the process start with your
scheduler's submission; keep reporting every job exactly once (docs/plugins.md)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import flowmill.backend as api

FAILED_EXIT = 12
"""The worker's exit status when the node failed and wrote its crash file."""


@dataclass(frozen=True)
class Options:
    workers: int = field(default=2, metadata={{
        "merge": "run-only", "help": "jobs running at once, each in a process of its own"}})


class Executor:
    """Job-level: the core submits ready jobs, at most ``slots`` at a time."""

    def __init__(self, options: Options, context: api.RunContext) -> None:
        self.slots = options.workers
        self.context = context
        self.done = api.CompletionQueue()
        self.processes: dict[str, subprocess.Popen[bytes]] = {{}}
        self.cancelled: set[str] = set()
        self.lock = threading.Lock()

    def submit(self, job: api.Job, options: Options) -> None:
        job.write()
        with open(job.dir / "{name}.log", "ab") as log:
            process = subprocess.Popen([*job.command(), "--failed-exit", str(FAILED_EXIT)], stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        with self.lock:
            self.processes[job.id] = process
            self.cancelled.discard(job.id)
        self.context.started(job.id, api.process_place(process.pid))
        threading.Thread(target=self._reap, args=(job, process), daemon=True).start()

    def _reap(self, job: api.Job, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        with self.lock:
            self.processes.pop(job.id, None)
            if job.id in self.cancelled:
                return
        if code in (0, FAILED_EXIT):
            self.done.put(api.Completion(job.id))
        else:
            self.done.put(api.Completion(job.id, api.Status.LOST, f"the job's process exited with {{code}}",
                                         {{"log": api.tail(str(job.dir / "{name}.log"))}}))

    def wait(self, timeout: float | None) -> list[api.Completion]:
        return self.done.wait(timeout)

    def cancel(self, job_ids: Sequence[str]) -> None:
        with self.lock:
            self.cancelled.update(job_ids)
            doomed = [self.processes[job_id] for job_id in job_ids if job_id in self.processes]
        for process in doomed:
            api.kill_process_tree(process.pid)

    def shutdown(self) -> None:
        self.cancel(list(self.processes))


@api.hookimpl
def flowmill_backends() -> list[api.Backend]:
    return [api.Backend("{name}", "jobs in processes of their own ({name} template)", 2, Options,
                        api.Capabilities(needs_pickle=True, timeouts="cancel", reports_starts=True))]


@api.hookimpl
def flowmill_make_executor(backend: api.Backend, options: Any, context: api.RunContext) -> Any:
    if backend.name != "{name}":
        return None
    return Executor(options, context)
'''

TEST = '''\
"""The {name} backend passes flowmill's conformance battery."""

from flowmill.testing import ConformanceSuite


class Test{title}(ConformanceSuite):
    backend = "{name}"
'''

README = '''\
# flowmill-{name}

A flowmill backend. `pip install -e .`, then `flowmill plugins --check {name}` and
`pytest tests` (flowmill's conformance battery). See flowmill's docs/plugins.md.
'''


def new_backend(name: str, parent: Path) -> Path:
    """Write the distribution ``flowmill-NAME`` under ``parent``; its directory."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValidationError(f"backend name {name!r}: use lower-case letters, digits and _ , starting with a "
                              "letter (it names the backend, the module flowmill_NAME and the entry point)")
    root = parent / f"flowmill-{name}"
    if root.exists():
        raise ValidationError(f"{root} exists already: choose another directory or name")
    values = {"name": name, "module": name, "title": name.title().replace("_", "")}
    files = {
        "pyproject.toml": PYPROJECT,
        f"flowmill_{name}/__init__.py": PLUGIN,
        f"tests/test_{name}.py": TEST,
        "README.md": README,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**values))
    return root
