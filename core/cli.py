"""The ``flowmill`` command: what is installed, and what went wrong."""

from __future__ import annotations

import sys
import typing
from pathlib import Path

import click

from . import worker
from ._errors import FlowmillError
from .contract.manager import distribution_of, installed_backends, plugin_manager
from .contract.options import RunOptions, default_of, describe_type, option_fields
from .contract.support import COLUMNS, support_by_mode
from .contract.types import Backend
from .store.crash import format_crash
from .store.results import CRASH, JOB, find_crash, read_crash


@click.group()
@click.version_option(package_name="flowmill")
def main() -> None:
    """flowmill: cached pipelines on pluggable backends."""


def _option_lines(schema: type) -> list[str]:
    hints = typing.get_type_hints(schema)
    lines = []
    for name, f in option_fields(schema).items():
        lines.append(f"    {name}: {describe_type(hints[name])} = {default_of(f)!r}  {f.metadata.get('help', '')}")
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
    lines = [f"{name}  ({distribution_of(plugin)}, contract {backend.contract})", f"  {backend.description}",
             "  run options honoured, by mode:"]
    lines += [f"    {mode}: {_support_line(cells)}" for mode, cells in support_by_mode(backend).items()]
    return [*lines, "  options:", *_option_lines(backend.options)]


@main.command()
@click.option("--markdown", is_flag=True, help="print only the table of run options per backend and mode")
def plugins(markdown: bool) -> None:
    """List installed backends (distribution, the run options each mode honours, own
    options with defaults) and the plugins that failed to load, with the reason."""
    try:
        backends = installed_backends()
    except FlowmillError as exc:
        raise click.ClickException(str(exc)) from None
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


@main.command()
@click.argument("crash_file", type=click.Path(exists=True, dir_okay=True, path_type=Path))
def crash(crash_file: Path) -> None:
    """Show a crash file (or the crash record of a node directory, found also where it
    went when the directory could not take it) readably."""
    if crash_file.is_dir():
        crash_file = find_crash(crash_file.absolute()) or crash_file / CRASH
    try:
        click.echo(format_crash(read_crash(crash_file)))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{crash_file} is not a flowmill crash file: {exc}") from None


@main.command()
@click.argument("node_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def rerun(node_dir: Path) -> None:
    """Rerun one node alone, in the foreground, from the job file its run left in
    NODE_DIR (what a crash record's rerun command does)."""
    jobfile = node_dir / JOB
    if not jobfile.is_file():
        raise click.ClickException(f"{node_dir} has no job file ({JOB}): it is not the directory of a node "
                                   "that ran or failed")
    sys.exit(worker.rerun(str(jobfile)))


if __name__ == "__main__":
    sys.exit(main())
