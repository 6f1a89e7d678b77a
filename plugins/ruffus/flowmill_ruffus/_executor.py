"""The graph-level executor: the remaining graph becomes one Ruffus pipeline."""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import flowmill.backend as api
from ruffus.ruffus_exceptions import RethrownJobError

from . import _lifeline, _pipeline
from ._link import LinkServer, LocalLink
from ._options import RuffusOptions
from ._plan import plan
from ._sandbox import release as release_sandbox

log = logging.getLogger("flowmill.ruffus")


class RuffusExecutor:
    """Builds, runs and removes one Ruffus pipeline per ``run_graph`` call. The core's
    policy reaches the pipeline through the link: which jobs may start, which run
    again; ``max_jobs`` caps Ruffus' ``n_procs``, and in ``multiprocess`` mode every
    job runs in a sandbox process, which the run's ``timeout`` and ``cancel`` stop."""

    def __init__(self, options: RuffusOptions, context: api.RunContext) -> None:
        self._options = options
        self._context = context
        self._run_options = context.run_options or api.RunOptions()
        max_jobs = self._run_options.max_jobs
        self._n_procs = min(options.n_procs, max_jobs) if max_jobs else options.n_procs
        self._links: list[LocalLink] = []
        self._details = {"backend": "ruffus", "mode": options.mode}
        """Added to the crash file of every job this backend reports lost."""

    def run_graph(self, graph: api.ExecutionGraph, options: Mapping[str, Any],
                  events: api.GraphEvents) -> Sequence[str]:
        _lifeline.guard()
        link = LocalLink(graph.jobs, events, self._context.started, self._details)
        self._links.append(link)
        sandboxed = self._options.mode == "multiprocess" and not self._options.dry_run
        server = LinkServer(link, self._run_options.timeout) if sandboxed else None
        stages = plan(graph)
        name = f"{self._context.workflow_dir.name}-{self._context.run_id}"
        log.debug("run %s: %d job(s) as %d Ruffus task(s)", name, len(graph), len(stages))
        try:
            with _pipeline.ruffus_pipeline(name, stages, server.client if server else link) as pipeline:
                _pipeline.write_printouts(pipeline, self._options)
                if self._options.dry_run:
                    return list(graph.jobs)
                _pipeline.run(pipeline, self._options, self._n_procs, link.worker_gone)
        except RethrownJobError as exc:
            if _interrupted(exc):
                raise KeyboardInterrupt("Ruffus' workers were interrupted") from exc
            self._report_lost(graph, events, exc)
        finally:
            if server is not None:
                server.close()
                release_sandbox()
        return []

    def _report_lost(self, graph: api.ExecutionGraph, events: api.GraphEvents,
                     error: RethrownJobError) -> None:
        """Jobs never fail towards Ruffus, so this is Ruffus or the pool failing: every
        job not yet reported is lost, with Ruffus' own account in the crash file (the
        pipeline is gone, so a resubmission the core may ask for cannot happen, and the
        core settles those jobs as unreported)."""
        raised = "; ".join(f"{name}{value}" for _, _, name, value, _ in error.job_exceptions)
        details = {**self._details, "ruffus_error": str(error)}
        for job_id in graph.topological():
            if not events.blocked(job_id):
                events.completed(api.Completion(job_id, api.Status.LOST, f"Ruffus stopped the pipeline: {raised}",
                                                details))

    def cancel(self, job_ids: Sequence[str]) -> None:
        """These jobs never start; in worker processes a running one is killed."""
        for link in self._links:
            link.cancel(job_ids)

    def shutdown(self) -> None:
        self._links.clear()


def _interrupted(error: RethrownJobError) -> bool:
    """Ctrl-C reached Ruffus' workers (they share the terminal's process group)."""
    return any("Keyboard_Interrupt" in str(name) or "KeyboardInterrupt" in str(name)
               for _, _, name, _, _ in error.job_exceptions)
