"""One Ruffus pipeline per run, built with the object API and removed afterwards.

Ruffus keeps process-global state: pipelines by name, and every task in a class-level
registry with a global index counter that is not thread-safe. Building and removing
pipelines under one lock keeps runs in two threads from sharing an index, and
removing the run's tasks afterwards keeps later runs from walking them (Ruffus
revisits every registered task on each ``pipeline_run``).
"""

from __future__ import annotations

import io
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from ruffus import Pipeline, pipeline_printout, pipeline_printout_graph, pipeline_run
from ruffus.graph import node

from ._link import Link
from ._options import RuffusOptions
from ._plan import Stage
from ._pool import Lost, recovering
from ._unit import Names, Unit, run_unit

_registry = threading.Lock()

RUN_SETTINGS: dict[str, Any] = {
    "history_file": ":memory:",
    "checksum_level": 0,
}
"""Ruffus' up-to-date machinery stays out of the way: flowmill's cache decided what
runs, ``parallel`` tasks have no files to check, and the history lives in memory
instead of a ``.ruffus_history.sqlite`` in the working directory."""


@contextmanager
def ruffus_pipeline(name: str, stages: Sequence[Stage], link: Link[Any]) -> Iterator[Pipeline]:
    with _registry:
        pipeline = Pipeline(name)
        try:
            _add_tasks(pipeline, stages, link)
        except BaseException:
            _forget(pipeline)
            raise
    try:
        yield pipeline
    finally:
        with _registry:
            _forget(pipeline)


def _add_tasks(pipeline: Pipeline, stages: Sequence[Stage], link: Link[Any]) -> None:
    tasks = []
    for stage in stages:
        jobs = [[Names(parents), Unit(unit, link)] for unit, parents in zip(stage.units, stage.parents)]
        task = pipeline.parallel(run_unit, jobs, name=stage.name)
        if stage.after:
            task.follows(*(tasks[i] for i in stage.after))
        tasks.append(task)


def _forget(pipeline: Pipeline) -> None:
    Pipeline.pipelines.pop(pipeline.name, None)
    ours = set(pipeline.tasks)
    node._all_nodes[:] = [n for n in node._all_nodes if n not in ours]
    for task in ours:
        node._index_to_node.pop(task._node_index, None)
        if node._name_to_node.get(task._name) is task:
            del node._name_to_node[task._name]


def run(pipeline: Pipeline, options: RuffusOptions, n_procs: int, lost: Lost) -> None:
    """``pipeline_run`` without Ruffus' timestamp pause (one_second_per_job) and
    without its logging: jobs never raise, so there is nothing for it to say. Its
    process pool survives a dead worker, telling ``lost`` (see ``_pool``)."""
    parallelism = {"multiprocess": n_procs} if options.mode == "multiprocess" else {"multithread": n_procs}
    with recovering(lost):
        pipeline_run(target_tasks=[], pipeline=pipeline, verbose=0, one_second_per_job=False,
                     **parallelism, **RUN_SETTINGS)


def write_printouts(pipeline: Pipeline, options: RuffusOptions) -> None:
    """Ruffus' own view of what it will run: every task and its jobs, and/or the
    flowchart of tasks."""
    if options.printout is not None:
        text = io.StringIO()
        pipeline_printout(text, target_tasks=[], pipeline=pipeline, verbose=5, **RUN_SETTINGS)
        if options.printout == "-":
            sys.stdout.write(text.getvalue())
        else:
            Path(options.printout).write_text(text.getvalue())
    if options.flowchart is not None:
        with open(options.flowchart, "wb") as stream:
            pipeline_printout_graph(stream, options.flowchart_format, target_tasks=[], pipeline=pipeline,
                                    pipeline_name=f"flowmill run {pipeline.name}", **RUN_SETTINGS)
