"""Ctrl-C in a test session started with SIGINT ignored.

A shell starts a background job (``cmd &``) with SIGINT ignored when job control is
off, as in every non-interactive shell (a CI script, ``sh -c``), and Python keeps an
ignored SIGINT ignored instead of installing its KeyboardInterrupt handler. A test
that sends the driver SIGINT then sees nothing happen ("DID NOT RAISE
KeyboardInterrupt"), for a reason that is not the backend's; so do the drivers such a
session starts, which inherit the ignored signal.
"""

from __future__ import annotations

import signal
import threading


def restore_sigint() -> bool:
    """Put Python's own SIGINT handler (``signal.default_int_handler``, which raises
    KeyboardInterrupt) back if SIGINT is ignored; return whether it was. A handler
    installs only from the main thread, so elsewhere this does nothing. Once a handler
    is installed, processes started from here get SIGINT's default action back."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return True
