"""Checks of a backend's declaration, for ``flowmill plugins --check NAME`` and the
conformance kit: each finding names the distribution, the option and the fix, so an
author learns of a mistake before a user's run trips over it.

Option types a backend may use (what ``--option`` values and ``plugin_args`` can carry
and the listing can describe): ``bool``, ``int``, ``float``, ``str``, a ``Literal`` of
such values, ``list[...]`` of ``bool``/``int``/``float``/``str``, ``dict[str, ...]`` of
them, and any of these ``| None``. Refused: ``tuple``, ``Any``, paths and other classes
(declare a ``str`` and convert it in the executor).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any, Literal

from .options import MERGE_POLICIES, build_options, default_merge, describe_type, matches, option_fields, resolve
from .types import CONTRACT_VERSION, Backend, Capabilities, GraphExecutor, JobExecutor

SCALARS = (bool, int, float, str)

FIELD_EXAMPLE = 'field(default=..., metadata={"help": "what it does"})'


def supported(tp: Any) -> bool:
    """Whether ``tp`` is one of the option types the module docstring lists."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp in SCALARS:
        return True
    if origin is Literal:
        return all(isinstance(arg, SCALARS) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return type(None) in args and all(arg is type(None) or supported(arg) for arg in args)
    if origin is list:
        return len(args) == 1 and args[0] in SCALARS
    if origin is dict:
        return len(args) == 2 and args[0] is str and args[1] in SCALARS
    return False


def check_options(schema: type, where: str) -> list[str]:
    """Findings about an options dataclass (``where`` names the backend and distribution)."""
    if not (isinstance(schema, type) and dataclasses.is_dataclass(schema)):
        return [f"{where}: options {schema!r} is not a dataclass: declare the options as "
                f"@dataclass(frozen=True) class with one {FIELD_EXAMPLE} per option"]
    hints, broken = resolve(schema)
    findings = [f"{where}: option {name}: its annotation does not resolve ({why}): import the type in "
                f"{schema.__module__}, or use one of bool, int, float, str, Literal" for name, why in broken.items()]
    for name, f in option_fields(schema).items():
        if name in broken:
            continue
        tp = hints[name]
        about = f"{where}: option {name}"
        if not supported(tp):
            findings.append(f"{about}: type {describe_type(tp)} is not supported: use bool, int, float, str, a "
                            "Literal of those, list[...] or dict[str, ...] of those, or any of them | None")
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            findings.append(f"{about} has no default: every option needs one ({FIELD_EXAMPLE})")
        else:
            value = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            if supported(tp) and not matches(value, tp):
                findings.append(f"{about}: its default {value!r} is not a {describe_type(tp)}: make the default "
                                "match the annotation")
        help_text = f.metadata.get("help")
        if not (isinstance(help_text, str) and help_text.strip()):
            findings.append(f"{about} has no help text: add metadata={{\"help\": \"...\"}} (flowmill plugins "
                            "shows it)")
        merge = f.metadata.get("merge")
        if merge is not None and merge not in MERGE_POLICIES:
            findings.append(f"{about}: metadata merge={merge!r} is not one of {', '.join(MERGE_POLICIES)}")
        elif merge == "append" and default_merge(tp) != "append":
            findings.append(f"{about}: metadata merge='append' needs a str option: use 'replace'")
    return findings


def check_capabilities(capabilities: Capabilities, graph_level: bool, where: str) -> list[str]:
    """Capabilities that contradict each other or the executor's shape."""
    findings = []
    if capabilities.timeouts not in ("none", "cancel", "native"):
        findings.append(f"{where}: Capabilities.timeouts={capabilities.timeouts!r}: use 'none', 'cancel' or "
                        "'native'")
    if graph_level and capabilities.timeouts == "cancel" and not capabilities.reports_starts:
        findings.append(f"{where}: timeouts='cancel' on a graph executor needs reports_starts=True (the core "
                        "clocks a job from its start; the whole graph is submitted at once): call "
                        "context.started(job_id) when a job begins, or declare timeouts='none'")
    return findings


PROTOCOL_METHODS = {
    JobExecutor: {"submit": 2, "wait": 1, "cancel": 1, "shutdown": 0},
    GraphExecutor: {"run_graph": 3, "cancel": 1, "shutdown": 0},
}


def check_executor(executor: Any, where: str) -> list[str]:
    """The built executor has one protocol's methods, with their arities, and a valid ``slots``."""
    shape = GraphExecutor if callable(getattr(executor, "run_graph", None)) else JobExecutor
    findings = []
    for method, arity in PROTOCOL_METHODS[shape].items():
        function = getattr(executor, method, None)
        if not callable(function):
            findings.append(f"{where}: its {shape.__name__} has no {method}() method: see docs/plugins.md")
            continue
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            continue
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(positional) != arity and not any(p.kind == p.VAR_POSITIONAL for p in parameters):
            findings.append(f"{where}: {type(executor).__name__}.{method} takes {len(positional)} argument(s), "
                            f"the {shape.__name__} protocol passes {arity}")
    if shape is JobExecutor:
        slots = getattr(executor, "slots", "missing")
        if slots is not None and (isinstance(slots, bool) or not isinstance(slots, int) or slots < 1):
            findings.append(f"{where}: its executor's slots is {slots!r}: set a positive int, or None for no cap")
    return findings


def check_backend(backend: Backend, distribution: str) -> list[str]:
    """Every finding about a declaration that can be made without building an executor."""
    where = f"backend {backend.name!r} ({distribution})"
    findings = []
    if backend.contract != CONTRACT_VERSION:
        findings.append(f"{where}: written for contract {backend.contract!r}, this flowmill speaks contract "
                        f"{CONTRACT_VERSION}: port it (docs/plugins.md, contract versions) and declare "
                        f"contract={CONTRACT_VERSION}")
    if not backend.description.strip():
        findings.append(f"{where}: has no description: flowmill plugins shows one")
    options = check_options(backend.options, where)
    if options:
        return findings + options
    for mode, values in backend.modes.items():
        try:
            built = build_options(backend.options, values, f"{where} mode {mode!r}")
            backend.capabilities_for(built)
        except Exception as exc:
            findings.append(f"{where}: mode {mode!r} ({values!r}) fails: {exc}")
    return findings
