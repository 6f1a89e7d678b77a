"""Option schemas as dataclasses: validation, defaults and the per-node merge rule.

Backends declare options as dataclass fields (type, default, ``metadata['help']``), as
snakemake's executor settings do; this module turns that declaration into errors that
name the valid options, raised before any job runs.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from .._errors import PluginError


@dataclass(frozen=True)
class RunOptions:
    """Options every backend accepts, because the core implements them once."""

    retries: int = field(default=0, metadata={
        "help": "times a lost job (worker died, killed, never started) is resubmitted"})
    timeout: float | None = field(default=None, metadata={
        "help": "seconds a node may run before it is stopped and reported failed"})
    max_jobs: int | None = field(default=None, metadata={
        "help": "most jobs in flight at once (None: as many as the backend takes)"})
    hash_method: Literal["content", "timestamp"] = field(default="content", metadata={
        "help": "how flowmill.File inputs are hashed: by content, or by size+mtime"})
    cache_libraries: bool = field(default=False, metadata={
        "help": "reuse a function node's result only while the installed libraries its code reaches, and "
                "Python's minor version, are those it was made with (off: a library upgrade reruns nothing)"})
    result_grace: float = field(default=10.0, metadata={
        "help": "seconds to wait for a finished job's result to appear on a shared file system"})
    stop_on_first_crash: bool = field(default=False, metadata={
        "help": "stop dispatching at the first failed node instead of finishing independent branches"})
    progress: bool = field(default=True, metadata={
        "help": "show the run's progress: live in a terminal or notebook, else a line per node on stderr"})


def option_fields(schema: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(schema)}


def describe_type(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " | ".join(repr(arg) for arg in typing.get_args(tp))
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " | ".join(describe_type(arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` is of the option type ``tp`` (an int is a float, a bool is not an int)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, arg) for arg in typing.get_args(tp))
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is not None:
        if not isinstance(value, origin):
            return False
        args = typing.get_args(tp)
        if origin in (list, set, frozenset) and args:
            return all(matches(item, args[0]) for item in value)
        if origin is dict and len(args) == 2:
            return all(matches(k, args[0]) and matches(v, args[1]) for k, v in value.items())
        return True
    return isinstance(value, tp)


def resolve(schema: type) -> tuple[dict[str, Any], dict[str, str]]:
    """The options' types, and for each annotation that does not resolve, why."""
    try:
        return typing.get_type_hints(schema), {}
    except Exception:
        pass
    namespace = vars(sys.modules.get(schema.__module__, types.ModuleType("missing")))
    hints, broken = {}, {}
    for f in dataclasses.fields(schema):
        try:
            hints[f.name] = eval(f.type, namespace) if isinstance(f.type, str) else f.type  # noqa: S307
        except Exception as exc:
            broken[f.name] = f"{type(exc).__name__}: {exc}"
    return hints, broken


def option_hints(schema: type, where: str) -> dict[str, Any]:
    """The options' types; an annotation that does not resolve is a PluginError naming
    ``where`` and the option, not a bare NameError."""
    hints, broken = resolve(schema)
    if broken:
        raise PluginError(f"{where}: " + "; ".join(f"option {name}: its annotation does not resolve ({why})"
                                                   for name, why in broken.items())
                          + f". Fix the options class {schema.__qualname__} (flowmill plugins --check)")
    return hints


def _valid_list(schemas: tuple[type, ...]) -> str:
    parts = []
    for schema in schemas:
        hints = option_hints(schema, schema.__qualname__)
        for name, f in option_fields(schema).items():
            parts.append(f"{name} ({describe_type(hints[name])}, default {default_of(f)!r})")
    return ", ".join(parts) or "none"


def default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def build_options(schema: type, values: Mapping[str, Any], where: str, *,
                  also_valid: tuple[type, ...] = ()) -> Any:
    """Instantiate ``schema`` from ``values``; unknown names and wrong types raise a
    PluginError naming ``where`` and listing every valid option with its type."""
    hints = option_hints(schema, where)
    known = option_fields(schema)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise PluginError(f"{where}: unknown option(s) {', '.join(unknown)}. "
                          f"Valid options: {_valid_list((schema,) + also_valid)}")
    for name, value in values.items():
        if not matches(value, hints[name]):
            raise PluginError(f"{where}: option {name}={value!r} should be {describe_type(hints[name])}. "
                              f"Valid options: {_valid_list((schema,) + also_valid)}")
    try:
        return schema(**values)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{where}: {exc}") from None


MergePolicy = Literal["append", "replace", "run-only"]
MERGE_POLICIES: tuple[str, ...] = typing.get_args(MergePolicy)


def merge_policy(f: dataclasses.Field[Any], tp: Any) -> str:
    """How a node's value of this option combines with the run's: the option's
    ``metadata["merge"]``, else :func:`default_merge`. ``"run-only"`` options cannot
    be set per node."""
    return f.metadata.get("merge") or default_merge(tp)


def default_merge(tp: Any) -> str:
    """nipype's rule: a ``str`` option (e.g. ``qsub_args``) appends the node's text to
    the run's; anything else, a ``Literal`` string included, is replaced."""
    plain = [arg for arg in typing.get_args(tp) if arg is not type(None)] or [tp]
    return "append" if plain == [str] else "replace"


def merge_node_options(schema: type, run_values: Mapping[str, Any], node_values: Mapping[str, Any],
                       where: str) -> dict[str, Any]:
    """A node's ``plugin_args`` over the run's options, option by option after its
    :func:`merge_policy`; with ``'overwrite': True`` every option the node names
    replaces the run's. A run-only option named by a node is refused, naming it."""
    hints = option_hints(schema, where)
    fields = option_fields(schema)
    run_only = sorted(key for key in node_values
                      if key in fields and merge_policy(fields[key], hints[key]) == "run-only")
    if run_only:
        raise PluginError(f"{where}: {', '.join(run_only)} apply to the whole run and cannot be set per node: "
                          "pass them to wf.run() instead")
    overwrite = bool(node_values.get("overwrite", False))
    merged = dict(run_values)
    for key, value in node_values.items():
        if key == "overwrite":
            continue
        current = merged.get(key)
        if (not overwrite and merge_policy(fields[key], hints[key]) == "append" and isinstance(value, str)
                and isinstance(current, str) and current):
            merged[key] = f"{current} {value}"
        else:
            merged[key] = value
    return merged


def options_as_dict(options: Any) -> dict[str, Any]:
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
