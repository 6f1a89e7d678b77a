"""How a run's progress is shown, chosen per run by the progress observer: a live
rich display in a terminal, a compact HTML display updated in place in a notebook
(both list the nodes running now and where each runs), or one line per event (for logs and pipes). Every view draws from a
:class:`~flowmill.observers.tally.Tally` and hears the events worth a message."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from ..contract.runinfo import RunInfo
from .tally import Snapshot, Tally, seconds


class LineView:
    """One line per event on a stream that is not a terminal, written in batches at
    most ``INTERVAL`` seconds apart (a write per line would cost the driver a system
    call per node). Cached nodes are folded into one line, printed before the next
    event or at the end."""

    INTERVAL = 0.25

    def __init__(self, run: RunInfo, tally: Tally, stream: IO[str]) -> None:
        self.tally = tally
        self.stream = stream
        self.cached = 0
        self.total = run.n_jobs
        self._lines: list[str] = []
        self._written = 0.0
        self._say(f"flowmill: run {run.run_id} of {run.workflow}: {run.n_jobs} node(s) on backend {run.backend}")

    def _say(self, line: str) -> None:
        self._lines.append(line + "\n")
        now = time.monotonic()
        if now - self._written >= self.INTERVAL:
            self._write()
            self._written = now

    def _write(self) -> None:
        self.stream.write("".join(self._lines))
        self.stream.flush()
        self._lines.clear()

    def _node(self, text: str) -> None:
        if self.cached:
            self._fold()
        settled = sum(self.tally.settled.values())
        self._say(f"[{settled}/{self.total}] {text}")

    def _fold(self) -> None:
        count, self.cached = self.cached, 0
        self._node(f"{count} node(s) cached")

    def cached_node(self, job_id: str) -> None:
        self.cached += 1

    def finished(self, job_id: str, duration: float, host: str | None) -> None:
        self._node(f"done {job_id} ({seconds(duration)} on {host})")

    def failed(self, job_id: str, error: str, crash_file: str) -> None:
        """Written at once: a failure must not wait for the next event to show."""
        self._node(f"FAILED {job_id}: {error} (crash file: {crash_file})")
        self._write()

    def skipped(self, job_id: str, because: str) -> None:
        self._node(f"skipped {job_id} (because of {because})")

    def retried(self, job_id: str, attempt: int, reason: str) -> None:
        self._node(f"retrying {job_id} (attempt {attempt}): {reason}")

    def close(self, summary: str) -> None:
        if self.cached:
            self._fold()
        self._say(summary)
        self._write()


class TerminalView(LineView):
    """A rich live display on the terminal: counts, a bar, elapsed and ETA, the nodes
    running now; failures are printed above it as they happen. Refreshed by rich's
    own thread four times a second from a snapshot, so the driver pays nothing per
    refresh."""

    def __init__(self, run: RunInfo, tally: Tally, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.title = f"{run.workflow} on {run.backend} (run {run.run_id})"
        super().__init__(run, tally, stream)
        self.live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def _say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)

    def _node(self, text: str) -> None:
        """Only failures and retries are worth a line above the live display."""

    def failed(self, job_id: str, error: str, crash_file: str) -> None:
        self._say(f"FAILED {job_id}: {error}\n  crash file: {crash_file}")

    def retried(self, job_id: str, attempt: int, reason: str) -> None:
        self._say(f"retrying {job_id} (attempt {attempt}): {reason}")

    def _render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        snap = self.tally.snapshot()
        head = Text(f"{self.title}  {snap.settled}/{snap.total}  {snap.counts_line()}  "
                    f"elapsed {seconds(snap.elapsed)}  ETA {seconds(snap.eta)}")
        lines: list[Any] = [head, ProgressBar(total=max(snap.total, 1), completed=snap.settled, width=60)]
        lines += [Text(f"  running {job_id} ({seconds(age)}){on(where)}", style="dim")
                  for job_id, age, where in snap.running]
        return Group(*lines)

    def close(self, summary: str) -> None:
        self.live.stop()
        self._say(summary)


class NotebookView(LineView):
    """A compact HTML display in a notebook cell, updated in place at most twice a
    second (and at the end), failures listed under the counts."""

    INTERVAL = 0.5

    def __init__(self, run: RunInfo, tally: Tally, stream: IO[str]) -> None:
        from IPython.display import HTML, display

        self._html = HTML
        self.title = f"{run.workflow} on {run.backend} (run {run.run_id})"
        self.tally = tally
        self.total = run.n_jobs
        self.cached = 0
        self._shown = 0.0
        self.handle = display(HTML(self._page(tally.snapshot())), display_id=True)

    def _page(self, snap: Snapshot, summary: str = "") -> str:
        from html import escape

        done = snap.settled / max(snap.total, 1)
        rows = "".join(f"<li><b>{escape(node)}</b>: {escape(error)} <code>{escape(path)}</code></li>"
                       for node, error, path in snap.failures)
        running = ", ".join(escape(job_id + on(where)) for job_id, _, where in snap.running)
        return (f"<div class='flowmill-progress'><b>{escape(self.title)}</b> {snap.settled}/{snap.total} "
                f"{escape(snap.counts_line())} &middot; elapsed {seconds(snap.elapsed)} &middot; "
                f"ETA {seconds(snap.eta)}<br><progress value='{done:.3f}' max='1' style='width:20em'></progress>"
                + (f"<br><small>running: {running}</small>" if running else "")
                + (f"<ul>{rows}</ul>" if rows else "") + (f"<br>{escape(summary)}" if summary else "") + "</div>")

    def _node(self, text: str) -> None:
        if time.monotonic() - self._shown >= self.INTERVAL:
            self._write()

    def _write(self) -> None:
        """Redraw now (a failure does not wait for the next interval)."""
        self._shown = time.monotonic()
        self.handle.update(self._html(self._page(self.tally.snapshot())))

    def close(self, summary: str) -> None:
        self.handle.update(self._html(self._page(self.tally.snapshot(), summary)))


def on(where: str | None) -> str:
    """`` on WHERE`` after a running node's name, or nothing when its backend did not say."""
    return f" on {where}" if where else ""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain IPython terminal)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def choose(run: RunInfo, tally: Tally) -> LineView:
    """The view for this process: notebook, terminal, or lines on stderr. Progress goes
    to stderr, leaving stdout to the program (a pipeline's output, a benchmark's JSON)."""
    stream = sys.stderr
    if in_notebook():
        return NotebookView(run, tally, stream)
    if stream.isatty():
        return TerminalView(run, tally, stream)
    return LineView(run, tally, stream)
