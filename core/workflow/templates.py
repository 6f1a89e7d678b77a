"""Argument templates of command nodes: ``"-{level}"``, ``"{in_file.name}.gz"``.

The syntax is Python's ``str.format`` (attributes, indexes and format specs work;
``{{`` is a literal brace). Each item of an argument list is rendered on its own into
one argument — never split, never seen by a shell — so a value such as
``"a; rm -rf ~"`` reaches the tool as one harmless literal. A template for a shell
command line (``shell=True``) gets every value quoted for the shell instead.
"""

from __future__ import annotations

import os
import re
import shlex
import string
from typing import Any, Mapping, Sequence

from .._errors import ValidationError

_ROOT = re.compile(r"[^.\[]*")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _text(value: Any, spec: str) -> str:
    """A value as one piece of text: paths as their path, everything else through
    ``format`` so that specs like ``{level:02d}`` work."""
    if isinstance(value, os.PathLike) and not spec:
        return os.fspath(value)
    return format(value, spec)


def placeholders(template: str) -> list[str]:
    """The input or output names a template refers to (``in_file`` for
    ``{in_file.name}``), in order; a malformed template raises ValidationError."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(f"template {template!r} is malformed ({exc}); write {{{{ and }}}} for "
                              "literal braces") from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        root = _ROOT.match(field).group()  # type: ignore[union-attr]
        if not _IDENTIFIER.match(root):
            raise ValidationError(f"template {template!r}: placeholder {{{field}}} must start with an input "
                                  "or output name, as in {in_file} or {in_file.name}")
        names.append(root)
    return names


def whole_placeholder(template: str) -> str | None:
    """The name when the template is exactly one bare placeholder (``"{files}"``):
    such an argument may take a list (one argument per item) or None (no argument)."""
    parsed = list(string.Formatter().parse(template))
    if len(parsed) == 1:
        literal, field, spec, conversion = parsed[0]
        if not literal and field and _IDENTIFIER.match(field) and not spec and not conversion:
            return field
    return None


class _ArgumentFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return _text(value, format_spec)


class _ShellFormatter(string.Formatter):
    """Quotes every value for ``/bin/sh``; a list becomes its quoted items, space separated."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return " ".join(shlex.quote(_text(item, format_spec)) for item in value)
        return shlex.quote(_text(value, format_spec))


def render_arguments(templates: Sequence[str], values: Mapping[str, Any]) -> list[str]:
    """The argument list: one argument per template item, except that a bare
    placeholder whose value is a list gives one argument per item and one whose
    value is None gives none (an optional flag left out)."""
    argv: list[str] = []
    formatter = _ArgumentFormatter()
    for template in templates:
        whole = whole_placeholder(template)
        if whole is not None:
            value = values[whole]
            if isinstance(value, (list, tuple)):
                argv.extend(_text(item, "") for item in value)
            elif value is not None:
                argv.append(_text(value, ""))
            continue
        for name in placeholders(template):
            if values[name] is None or isinstance(values[name], (list, tuple)):
                raise TypeError(f"input {name!r} is "
                                      f"{'None' if values[name] is None else 'a list'}, which can only fill "
                                      f"an argument of its own ('{{{name}}}')")
        argv.append(formatter.vformat(template, (), values))
    return argv


def render_shell(template: str, values: Mapping[str, Any]) -> str:
    """A shell command line with every value quoted, so values stay literals even there."""
    return _ShellFormatter().vformat(template, (), values)


def render_name(template: str, values: Mapping[str, Any]) -> str:
    """An output file name (no quoting: it is a path, not a command)."""
    return _ArgumentFormatter().vformat(template, (), values)
