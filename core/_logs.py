"""The one place flowmill attaches a logging handler, and only when asked: libraries
log to their logger and leave output to the application (the logging convention)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to_stderr(level: int | str = logging.INFO) -> logging.Handler:
    """Show flowmill's log (per-node lines at INFO) on stderr, at ``level`` and above.
    Calling it again changes the level and keeps the one handler."""
    logger = logging.getLogger("flowmill")
    handler = next((h for h in logger.handlers if getattr(h, "flowmill_stderr", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.flowmill_stderr = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
    logger.setLevel(level)
    return handler
