"""Per-node lines at INFO on the ``flowmill`` logger, the logging convention: the
library installs no handler, so they show only where the application (or
``flowmill.log_to_stderr()``, or the ``flowmill`` command's ``-v``) configured one.
Failures and retries are logged by the runner itself, at ERROR and WARNING."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ..contract.markers import hookimpl
from ..contract.runinfo import RunInfo

log = logging.getLogger("flowmill")


class NodeLog:
    """The observer: one INFO line per node event, naming the node's id."""

    @hookimpl
    def flowmill_node_started(self, run: RunInfo, job: Any, where: str | None) -> None:
        if where:
            log.info("node %s started on %s", job.id, where)
        else:
            log.info("node %s started", job.id)

    @hookimpl
    def flowmill_node_finished(self, run: RunInfo, job: Any, report: Mapping[str, Any]) -> None:
        log.info("node %s finished in %.3fs on %s; it ran because: %s", job.id, report.get("duration", 0.0),
                 report.get("host"), report.get("why"))

    @hookimpl
    def flowmill_node_cached(self, run: RunInfo, job: Any) -> None:
        log.info("node %s cached", job.id)

    @hookimpl
    def flowmill_node_skipped(self, run: RunInfo, job: Any, because: str) -> None:
        log.info("node %s skipped because of %s", job.id, because)

    @hookimpl
    def flowmill_run_finished(self, run: RunInfo, result: Any) -> None:
        log.info("run %s of %s finished: %r", run.run_id, run.workflow, result)


PLUGIN = NodeLog()
