"""One ``Workflow.run`` call: choose and configure the backend, refuse what it cannot
honour, validate everything that can be checked before a job exists, then hand the
execution graph to the runner."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import cloudpickle

from .._errors import FailedNode, PluginError, ValidationError, WorkflowError
from ..contract.manager import find_backend, installed_backends, make_executor, notify
from ..contract.options import (
    RunOptions,
    build_options,
    merge_node_options,
    option_fields,
    options_as_dict,
)
from ..contract.runinfo import RunInfo
from ..contract.states import NodeState
from ..contract.types import Backend, Capabilities, GraphExecutor, RunContext
from .dry_run import describe, plan
from .aliases import resolve_plugin, translate_nipype_keys
from ..store import results as store
from ..store.hashing import ensure_hashable
from .graph import ExecutionGraph
from .graph_level import GraphLevelDriver
from .job_level import JobLevelDriver
from .journal import Journal
from .result import RunResult
from .runner import RUNS, Runner

log = logging.getLogger("flowmill")


def split_options(backend: Backend, values: Mapping[str, Any]) -> tuple[RunOptions, Any]:
    """Separate the core's run options from the backend's and validate both."""
    run_names = set(option_fields(RunOptions))
    run_values = {k: v for k, v in values.items() if k in run_names}
    backend_values = {k: v for k, v in values.items() if k not in run_names}
    where = f"backend {backend.name!r}"
    run_options = build_options(RunOptions, {**backend.run_defaults, **run_values}, where,
                                also_valid=(backend.options,))
    refuse_foreign(backend, backend_values)
    backend_options = build_options(backend.options, backend_values, where, also_valid=(RunOptions,))
    return run_options, backend_options


def refuse_foreign(backend: Backend, values: Mapping[str, Any]) -> None:
    """Options of other backends given to this one (nipype's MultiProc ``n_procs`` on
    linear, which nipype ignores) are refused up front, naming the backends that take
    them, since the user most likely meant to run there."""
    own = set(option_fields(backend.options))
    takers: dict[str, list[str]] = {}
    for name, (other, _) in sorted(installed_backends().items()):
        for key in set(option_fields(other.options)) & (set(values) - own):
            takers.setdefault(key, []).append(name)
    if takers:
        raise PluginError("; ".join(f"backend {backend.name!r} has no option {key!r}, an option of backend(s) "
                                    + ", ".join(repr(name) for name in names)
                                    + f": run with plugin={names[0]!r} to use it" for key, names in sorted(takers.items())))


def node_options(graph: ExecutionGraph, backend: Backend, run_backend_options: Any) -> dict[str, Any]:
    """Each job's backend options: the run's, with the node's ``plugin_args`` merged
    over them. Keys another installed backend understands are left to that backend, so
    one pipeline can carry SGE-only settings and still run on the laptop."""
    own = set(option_fields(backend.options))
    result: dict[str, Any] = {job.id: run_backend_options for job in graph if not job.plugin_args}
    if len(result) == len(graph):
        return result
    foreign = {name for other, _ in installed_backends().values() for name in option_fields(other.options)}
    base = options_as_dict(run_backend_options)
    for job in graph:
        if not job.plugin_args:
            continue
        ours = {k: v for k, v in job.plugin_args.items() if k in own or k == "overwrite"}
        unknown = sorted(set(job.plugin_args) - own - foreign - {"overwrite"})
        if unknown:
            raise ValidationError(f"node {job.id!r}: plugin_args {unknown} are not options of any installed "
                                  f"backend; options of {backend.name!r} are {sorted(own)}")
        where = f"node {job.id!r} plugin_args for backend {backend.name!r}"
        result[job.id] = build_options(backend.options, merge_node_options(backend.options, base, ours, where), where)
    return result


def check_picklable(graph: ExecutionGraph, backend: Backend) -> None:
    """Backends that ship jobs to other processes need every task and input to pickle;
    find out now, naming the node, rather than after half the graph ran."""
    seen: set[int] = set()
    for job in graph:
        if id(job.task) not in seen:
            seen.add(id(job.task))
            try:
                cloudpickle.dumps(job.task)
            except Exception as exc:
                raise ValidationError(f"node {job.id!r}: its {job.task.describe()} cannot be pickled ({exc}), "
                                      f"and backend {backend.name!r} sends jobs to other processes. Define it "
                                      "at module level or avoid capturing unpicklable objects") from None
        for name, value in job.inputs.items():
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                raise ValidationError(f"node {job.id!r}: input {name!r} ({type(value).__name__}) cannot be "
                                      f"pickled ({exc}), and backend {backend.name!r} sends jobs to other "
                                      "processes. Pass a path or plain data instead") from None


def refuse_oversized(graph: ExecutionGraph, backend: Backend, capabilities: Capabilities) -> None:
    """A node asking more cores or memory than the backend has for one job would wait
    forever: refuse it now, by name."""
    for job in graph:
        cpus, mem_gb = job.resources.cpus, job.resources.mem_gb
        if capabilities.cpus is not None and cpus is not None and cpus > capabilities.cpus:
            raise ValidationError(f"node {job.id!r} asks for resources['cpus']={cpus}, but backend "
                                  f"{backend.name!r} has {capabilities.cpus} for one job (its n_procs)")
        if capabilities.mem_gb is not None and mem_gb is not None and mem_gb > capabilities.mem_gb:
            raise ValidationError(f"node {job.id!r} asks for resources['mem_gb']={mem_gb:g}, but backend "
                                  f"{backend.name!r} has {capabilities.mem_gb:g} GiB for one job (its memory_gb)")


def check_hashable(graph: ExecutionGraph) -> None:
    """Every input value goes into a cache key, which pickles values of types it does
    not know; find one that cannot be hashed now, naming the node, on every backend,
    rather than inside the cache lookup after other nodes ran."""
    for job in graph:
        for name, value in job.inputs.items():
            try:
                ensure_hashable(value)
            except Exception as exc:
                raise ValidationError(f"node {job.id!r}: input {name!r} ({type(value).__name__}) cannot be "
                                      f"hashed into the cache key ({exc}); pass a path or plain data "
                                      "instead") from None


UNSUPPORTED_FIX = {
    "timeout": "drop timeout, or use a backend or mode that can stop a running node",
    "max_jobs": "drop max_jobs, or use a mode in which the core submits job by job",
}


def refuse_unsupported(backend: Backend, capabilities: Capabilities, run_options: RunOptions) -> None:
    """Refuse, before anything runs, a run option this backend (in this mode) cannot honour."""
    unsupported = []
    if run_options.timeout is not None and capabilities.timeouts == "none":
        unsupported.append("timeout")
    if run_options.max_jobs is not None and not capabilities.max_jobs:
        unsupported.append("max_jobs")
    if unsupported:
        where = " with these options" if len(backend.modes) > 1 else ""
        raise PluginError("; ".join(f"backend {backend.name!r} does not support the {name} option{where}: "
                                    f"{UNSUPPORTED_FIX[name]}" for name in unsupported))


class Session:
    """One run, from the validated backend choice to its result. Created before the
    execution graph is built, because the graph depends on run options
    (``hash_method``) and the run's directory."""

    def __init__(self, workflow_name: str, base_dir: "str | os.PathLike[str] | None", plugin: str,
                 values: Mapping[str, Any]) -> None:
        name, mode = resolve_plugin(plugin, installed_backends())
        self.backend, self.plugin = find_backend(name)
        values = dict(values)
        self.dry_run = "dry_run" not in option_fields(self.backend.options) and bool(values.pop("dry_run", False))
        """The core's dry run, for backends without one of their own (those get the option)."""
        own = {*option_fields(RunOptions), *option_fields(self.backend.options)}
        self.run_options, self.backend_options = split_options(
            self.backend, {**mode, **translate_nipype_keys(values, own)})
        self.capabilities = self.backend.capabilities_for(self.backend_options)
        refuse_unsupported(self.backend, self.capabilities, self.run_options)
        self.workflow_name = workflow_name
        self.workflow_dir = Path(base_dir or Path.cwd()).absolute() / workflow_name

    def run(self, graph: ExecutionGraph) -> RunResult:
        backend = self.backend
        if self.dry_run:
            fates = plan(graph)
            describe(self.workflow_name, backend.name, graph, fates, print)
            return RunResult(self.workflow_dir, "dry-run", graph.nodes, {job.id: job.dir for job in graph}, fates, {})
        per_node = node_options(graph, backend, self.backend_options)
        refuse_oversized(graph, backend, self.capabilities)
        if self.capabilities.needs_pickle:
            check_picklable(graph, backend)
        check_hashable(graph)
        (self.workflow_dir / store.RUN_DIR).mkdir(parents=True, exist_ok=True)
        run_id = uuid.uuid4().hex[:12]
        info = RunInfo(run_id=run_id, workflow=self.workflow_name, workflow_dir=self.workflow_dir,
                       backend=backend.name, n_jobs=len(graph), options=self.run_options,
                       backend_options=options_as_dict(self.backend_options))
        journal = Journal(self.workflow_dir, run_id)
        journal.recover()
        runner = Runner(graph, None, self.run_options, per_node, info, self.capabilities)
        if not self.capabilities.needs_pickle:
            runner.journal = journal
        context = RunContext(run_id=run_id, workflow_dir=self.workflow_dir, started=runner.job_started, log=log,
                             run_options=self.run_options)
        runner.executor = make_executor(backend, self.plugin, self.backend_options, context)
        log.info("run %s of %s: %d node(s) on backend %s (pid %d)", run_id, self.workflow_name, len(graph),
                 backend.name, os.getpid())
        notify("flowmill_run_started", run=info, graph=graph)
        driver = GraphLevelDriver if isinstance(runner.executor, GraphExecutor) else JobLevelDriver
        try:
            driver(runner).run()
        except BaseException as exc:
            notify("flowmill_run_aborted", run=info, error=exc)
            raise
        finally:
            RUNS.discard(runner)
            journal.close()
        states = runner.states
        result = RunResult(self.workflow_dir, run_id, graph.nodes, {job.id: job.dir for job in graph}, states,
                           runner.crash_files)
        notify("flowmill_run_finished", run=info, result=result)
        failed = [job_id for job_id, state in states.items() if state == NodeState.FAILED]
        if failed:
            raise WorkflowError([FailedNode(name, runner.crash_files[name], runner.errors[name])
                                 for name in failed], result)
        return result
