"""The ``flowmill`` command: what is installed, and what went wrong."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Callable

import click

from . import _template
from . import worker
from ._errors import FlowmillError
from ._logs import log_to_stderr
from .contract.declaration import check_backend
from .contract.manager import distribution_of, installed_backends, plugin_manager
from .contract.options import RunOptions, default_of, describe_type, option_fields, resolve
from .contract.support import COLUMNS, support_by_mode
from .contract.types import CONTRACT_VERSION, Backend
from .store.crash import format_crash
from .report import render
from .status import describe, summary_line
from .store.results import CRASH, JOB, find_crash, read_crash
from .store.runs import RunRecord, find_record, read_record, record_paths
from .workflow.picture import record_picture, write_picture


@click.group()
@click.version_option(package_name="flowmill")
@click.option("-v", "--verbose", count=True, help="log to stderr: -v at INFO, -vv at DEBUG")
def main(verbose: int) -> None:
    """flowmill: cached pipelines on pluggable backends.

    \b
    Example:
      flowmill status work/demo     # what the last run of workflow demo did
    """
    if verbose:
        log_to_stderr(logging.DEBUG if verbose > 1 else logging.INFO)


def _option_lines(schema: type) -> list[str]:
    """One line per option; an annotation that does not resolve is shown as such
    rather than ending the listing."""
    hints, broken = resolve(schema)
    lines = []
    for name, f in option_fields(schema).items():
        kind = describe_type(hints[name]) if name in hints else f"<annotation does not resolve: {broken[name]}>"
        lines.append(f"    {name}: {kind} = {default_of(f)!r}  {f.metadata.get('help', '')}")
    return lines


def _support_line(cells: dict[str, str]) -> str:
    return ", ".join(f"{column} {cells[column]}" for column in COLUMNS)


def _markdown_table(backends: dict[str, tuple[Backend, object]]) -> list[str]:
    """The README's table of run options per backend and mode (``flowmill plugins --markdown``)."""
    lines = ["| backend / mode | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, (backend, _) in sorted(backends.items()):
        for mode, cells in support_by_mode(backend).items():
            label = f"`{name}`" if mode == "default" else f"`{name}` {mode}"
            lines.append(f"| {label} | " + " | ".join(cells[column] for column in COLUMNS) + " |")
    return lines


def _describe(name: str, backend: Backend, plugin: object) -> list[str]:
    lines = [f"{name}  ({distribution_of(plugin)}, contract {backend.contract})", f"  {backend.description}"]
    if backend.contract != CONTRACT_VERSION:
        lines.append(f"  INCOMPATIBLE: written for contract {backend.contract}, this flowmill speaks contract "
                     f"{CONTRACT_VERSION}; runs on it are refused until the plugin is updated")
    try:
        modes = [f"    {mode}: {_support_line(cells)}" for mode, cells in support_by_mode(backend).items()]
        options = _option_lines(backend.options)
    except Exception as exc:
        return [*lines, f"  BROKEN DECLARATION: {exc} (flowmill plugins --check {name})"]
    return [*lines, "  run options honoured, by mode:", *modes, "  options:", *options]


@main.command()
@click.option("--markdown", is_flag=True, help="print only the table of run options per backend and mode")
@click.option("--check", "check", metavar="NAME", help="check the declaration of backend NAME: its options, "
              "their types, defaults and help, its contract version and its modes")
def plugins(markdown: bool, check: str | None) -> None:
    """List installed backends (distribution, the run options each mode honours, own
    options with defaults) and the plugins that failed to load, with the reason.

    \b
    Examples:
      flowmill plugins
      flowmill plugins --markdown > table.md
      flowmill plugins --check mybackend
    """
    try:
        backends = installed_backends()
    except FlowmillError as exc:
        raise click.ClickException(str(exc)) from None
    if check is not None:
        _check(check, backends)
        return
    if markdown:
        click.echo("\n".join(_markdown_table(backends)))
        return
    if not backends:
        click.echo("no backends installed: pip install flowmill-linear (in the repository: pip install -e plugins/linear)")
    for name, (backend, plugin) in sorted(backends.items()):
        click.echo("\n".join(_describe(name, backend, plugin)))
    click.echo("run options (the core's; a backend refuses those its mode does not honour, see above):")
    for line in _option_lines(RunOptions):
        click.echo(line)
    broken = plugin_manager().broken
    if broken:
        click.echo("broken plugins (not loaded; the other backends work):")
        for dist, reason in sorted(broken.items()):
            click.echo(f"  {dist}: " + reason.replace("\n", "\n    "))


def _check(name: str, backends: dict[str, tuple[Backend, object]]) -> None:
    if name not in backends:
        raise click.ClickException(f"no backend named {name!r} is installed; installed: "
                                   f"{', '.join(sorted(backends)) or 'none'}")
    backend, plugin = backends[name]
    findings = check_backend(backend, distribution_of(plugin))
    for finding in findings:
        click.echo(finding)
    if findings:
        raise click.ClickException(f"{len(findings)} finding(s) for backend {name!r}")
    click.echo(f"backend {name!r} ({distribution_of(plugin)}): declaration ok")


@main.command("new-backend")
@click.argument("name")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def new_backend(name: str, directory: Path) -> None:
    """Create the distribution flowmill-NAME in DIRECTORY: a job-level backend that
    installs, is listed by `flowmill plugins` and passes the conformance kit.

    \b
    Example:
      flowmill new-backend mypool ~/src     # then: pip install -e ~/src/flowmill-mypool
    """
    try:
        root = _template.new_backend(name, directory)
    except FlowmillError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {root}: pip install -e {root}, then flowmill plugins --check {name} and "
               f"pytest {root / 'tests'}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
def crash(path: Path) -> None:
    """Show a crash file readably, or list every crash of a workflow.

    PATH is a crash file, a node directory holding one, or a workflow directory
    (every crash under it is listed with its error; show one by its path).

    \b
    Examples:
      flowmill crash work/demo            # every crash of workflow demo
      flowmill crash work/demo/b          # the crash of node b, in full
    """
    crash_file = (find_crash(path.absolute()) or path / CRASH) if path.is_dir() else path
    if path.is_dir() and not crash_file.exists():
        _list_crashes(path)
        return
    try:
        click.echo(format_crash(read_crash(crash_file)))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{crash_file} is not a flowmill crash file: {exc}") from None


def _list_crashes(workflow_dir: Path) -> None:
    found = sorted(workflow_dir.rglob(CRASH))
    if not found:
        click.echo(f"no crash file under {workflow_dir}")
        return
    for crash_file in found:
        try:
            record = read_crash(crash_file)
        except (OSError, ValueError) as exc:
            click.echo(f"{crash_file}: unreadable ({exc})")
            continue
        click.echo(f"{record.get('node')}: {record.get('error_type')}: {record.get('error')}\n  {crash_file}")
    click.echo(f"{len(found)} crash file(s); show one with: flowmill crash PATH")


def _recorded_run(verb: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The WORKFLOW_DIR argument and the --run option of the commands that read a run record."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option("--run", "run_id", metavar="ID", help=f"the run to {verb} (default: the latest)")(command)
        return click.argument("workflow_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))(command)

    return decorate


@main.command()
@_recorded_run("show")
@click.option("--slowest", default=5, show_default=True, help="how many of the slowest nodes to list")
@click.option("--all", "all_runs", is_flag=True, help="list every recorded run, one line each")
def status(workflow_dir: Path, run_id: str | None, slowest: int, all_runs: bool) -> None:
    """What a run of the workflow in WORKFLOW_DIR did (the latest, or --run ID): its
    counts, the failed nodes with their crash files, the slowest nodes with host, CPU
    time and peak memory, and what a scheduler still holds. WORKFLOW_DIR is
    ``<base_dir>/<workflow name>``.

    \b
    Examples:
      flowmill status work/demo
      flowmill status work/demo --all
      flowmill status work/demo --run 3f2a9c1b7d0e
    """
    if all_runs:
        paths = record_paths(workflow_dir)
        if not paths:
            raise click.ClickException(f"no run recorded in {workflow_dir}")
        for path in paths:
            click.echo(summary_line(read_record(path)))
        return
    click.echo("\n".join(describe(_record(workflow_dir, run_id), slowest)))


def _record(workflow_dir: Path, run_id: str | None) -> RunRecord:
    """The record of run ``run_id`` (None: the latest), or an error saying what is wrong."""
    path = find_record(workflow_dir, run_id)
    if path is None:
        which = f"run {run_id!r}" if run_id else "run"
        raise click.ClickException(f"no {which} recorded in {workflow_dir} (is it a workflow directory, "
                                   "<base_dir>/<workflow name>? flowmill status DIR --all lists the runs)")
    return read_record(path)


@main.command()
@_recorded_run("draw")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("graph.dot"),
              show_default=True, help="the file to write: .dot, .mmd (Mermaid), or .svg/.png/.pdf (Graphviz)")
def graph(workflow_dir: Path, output: Path, run_id: str | None) -> None:
    """Draw the jobs of a recorded run of the workflow in WORKFLOW_DIR, coloured by
    their states (from a script, ``wf.write_graph`` also draws the workflow before it
    ever ran, collapsed to one box per node).

    \b
    Examples:
      flowmill graph work/demo -o graph.svg
      flowmill graph work/demo --run 3f2a9c1b7d0e -o graph.mmd
    """
    record = _record(workflow_dir, run_id)
    try:
        write_picture(record.run["workflow"], record_picture(record), output)
    except FlowmillError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {output}")


@main.command()
@_recorded_run("report")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="the HTML file to write")
def report(workflow_dir: Path, output: Path, run_id: str | None) -> None:
    """Write a run of the workflow in WORKFLOW_DIR as one self-contained HTML page:
    summary, failures with their stderr or traceback, a timeline per host and worker,
    and a sortable table of every node with its times, CPU and peak memory.

    \b
    Examples:
      flowmill report work/demo -o report.html
      flowmill report work/demo --run 3f2a9c1b7d0e -o old.html
    """
    output.write_text(render(_record(workflow_dir, run_id)), encoding="utf-8")
    click.echo(f"wrote {output}")


@main.command()
@click.argument("node_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def rerun(node_dir: Path) -> None:
    """Rerun one node alone, in the foreground, from the job file its run left in
    NODE_DIR (what a crash record's rerun command does).

    \b
    Example:
      flowmill rerun work/demo/b
    """
    jobfile = node_dir / JOB
    if not jobfile.is_file():
        raise click.ClickException(f"{node_dir} has no job file ({JOB}): it is not the directory of a node "
                                   "that ran or failed")
    sys.exit(worker.rerun(str(jobfile)))


if __name__ == "__main__":
    sys.exit(main())
