"""The ``flowmill`` command: what is installed, and what went wrong."""

from __future__ import annotations

import sys
import typing
from pathlib import Path

import click

from ._errors import FlowmillError
from .contract.manager import distribution_of, installed_backends
from .contract.options import RunOptions, default_of, describe_type, option_fields
from .store.crash import format_crash
from .store.results import read_crash


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


@main.command()
def plugins() -> None:
    """List installed backends, their distribution and options with defaults."""
    try:
        backends = installed_backends()
    except FlowmillError as exc:
        raise click.ClickException(str(exc)) from None
    if not backends:
        click.echo("no backends installed: pip install flowmill-linear (in the repository: pip install -e plugins/linear)")
    for name, (backend, plugin) in sorted(backends.items()):
        click.echo(f"{name}  ({distribution_of(plugin)}, contract {backend.contract})")
        click.echo(f"  {backend.description}")
        click.echo("  options:")
        for line in _option_lines(backend.options):
            click.echo(line)
    click.echo("run options (every backend):")
    for line in _option_lines(RunOptions):
        click.echo(line)


@main.command()
@click.argument("crash_file", type=click.Path(exists=True, dir_okay=True, path_type=Path))
def crash(crash_file: Path) -> None:
    """Show a crash file (or the crash file in a node directory) readably."""
    if crash_file.is_dir():
        crash_file = crash_file / "crash.json"
    try:
        click.echo(format_crash(read_crash(crash_file)))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{crash_file} is not a flowmill crash file: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
