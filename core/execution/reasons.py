"""Why a node runs: the first thing that differs between the key its stored result
was made with and the key it has now, said as a person would look for it (snakemake's
rerun triggers, which nipype lacks)."""

from __future__ import annotations

from typing import Iterable, Mapping

from ..store.libraries import PYTHON

NO_RESULT = "no earlier result"
CODE = "code"
VERSION = "version"
HASH_METHOD = "hash_method"
INPUT = "in:"
UPSTREAM = "up:"


def _short(digest: str) -> str:
    return digest[:12]


def key_change(old: Mapping[str, str], new: Mapping[str, str], sources: Mapping[str, str]) -> str:
    """What changed from key ``old`` (the stored result's) to ``new``; ``sources``
    names the upstream output each connected input reads."""
    if old.get(CODE) != new.get(CODE):
        return "its code changed"
    for part, label in ((VERSION, "its version"), (HASH_METHOD, "the run's hash_method")):
        if old.get(part) != new.get(part):
            return f"{label} changed: {old.get(part)} -> {new.get(part)}"
    found = _first_difference(old, new, sorted(new.keys() | old.keys()))
    if found is not None:
        part, before, after = found
        name = part.split(":", 1)[1]
        if part.startswith(UPSTREAM):
            what = f"upstream output {sources.get(name, '?')} (input {name})"
        else:
            what = f"input {name}"
        if before is None or after is None:
            return f"{what} {'is new' if before is None else 'is gone'}"
        return f"{what} changed: {_short(before)} -> {_short(after)}"
    return "its key changed"


def library_change(recorded: Mapping[str, str] | None, now: Mapping[str, str]) -> str | None:
    """Why a result made with the library versions ``recorded`` (None: made without
    ``cache_libraries``) is not reused with the versions of ``now``; None if it is."""
    if recorded is None:
        return "cache_libraries is on and its result records no library versions (made without the option)"
    found = _first_difference(recorded, now, [PYTHON, *sorted(recorded.keys() | now.keys())])
    if found is None:
        return None
    distribution, before, after = found
    if distribution == PYTHON:
        return f"{PYTHON} changed {before} -> {after}"
    if before is None:
        return f"library {distribution} {after} is reached now and was not when it ran"
    if after is None:
        return f"library {distribution} {before} is no longer reached"
    return f"library {distribution} changed {before} -> {after}"


def _first_difference(old: Mapping[str, str], new: Mapping[str, str],
                      parts: Iterable[str]) -> tuple[str, str | None, str | None] | None:
    """The first of ``parts`` whose value differs from ``old`` to ``new``, with both values."""
    for part in parts:
        before, after = old.get(part), new.get(part)
        if before != after:
            return part, before, after
    return None
