"""One ``Workflow.run`` call: choose and configure the backend, validate everything
that can be checked before a job exists, then hand the graph to the runner."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import cloudpickle

from ._contract import Backend, RunContext
from ._errors import FailedNode, PluginError, ValidationError, WorkflowError
from ._graph import ExecutionGraph, build_graph
from ._manager import find_backend, installed_backends, make_executor, notify
from ._options import RunOptions, build_options, merge_node_options, option_fields, options_as_dict
from ._result import RunResult
from ._runinfo import RunInfo
from ._runner import Runner

if TYPE_CHECKING:
    from ._workflow import Workflow

log = logging.getLogger("flowmill")


def split_options(backend: Backend, values: Mapping[str, Any]) -> tuple[RunOptions, Any]:
    """Separate the core's run options from the backend's and validate both."""
    run_names = set(option_fields(RunOptions))
    run_values = {k: v for k, v in values.items() if k in run_names}
    backend_values = {k: v for k, v in values.items() if k not in run_names}
    where = f"backend {backend.name!r}"
    run_options = build_options(RunOptions, {**backend.run_defaults, **run_values}, where,
                                also_valid=(backend.options,))
    backend_options = build_options(backend.options, backend_values, where, also_valid=(RunOptions,))
    return run_options, backend_options


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
        result[job.id] = build_options(backend.options, merge_node_options(base, ours),
                                       f"node {job.id!r} plugin_args for backend {backend.name!r}")
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


def run_workflow(workflow: "Workflow", plugin: str, values: Mapping[str, Any]) -> RunResult:
    backend, _ = find_backend(plugin)
    run_options, backend_options = split_options(backend, values)
    if run_options.timeout is not None and not backend.capabilities.timeouts:
        raise PluginError(f"backend {plugin!r} cannot stop a running node, so it does not support the "
                          "timeout option; use a backend that does (e.g. 'ipython' or 'sge')")
    base_dir = (workflow.base_dir or Path.cwd()).absolute()
    workflow_dir = base_dir / workflow.name
    graph = build_graph(workflow, workflow_dir, run_options.hash_method)
    per_node = node_options(graph, backend, backend_options)
    if backend.capabilities.needs_pickle:
        check_picklable(graph, backend)
    workflow_dir.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    info = RunInfo(run_id=run_id, workflow=workflow.name, workflow_dir=workflow_dir, backend=plugin,
                   n_jobs=len(graph))
    runner = Runner(graph, None, run_options, per_node, info)
    context = RunContext(run_id=run_id, workflow_dir=workflow_dir, started=runner.job_started, log=log,
                         run_options=run_options)
    runner.executor = make_executor(backend, backend_options, context)
    log.info("run %s of %s: %d node(s) on backend %s (pid %d)", run_id, workflow.name, len(graph), plugin,
             os.getpid())
    notify("flowmill_run_started", run=info)
    states = runner.run()
    result = RunResult(workflow_dir, run_id, graph.nodes, {job.id: job.dir for job in graph}, states,
                       runner.crash_files)
    notify("flowmill_run_finished", run=info, result=result)
    if result.failed:
        raise WorkflowError([FailedNode(name, runner.crash_files[name], runner.errors[name])
                             for name in result.failed], result)
    return result

