"""Why a node runs: the first thing that differs between the key its stored result
was made with and the key it has now, said as a person would look for it (snakemake's
rerun triggers, which nipype lacks)."""

from __future__ import annotations

from typing import Mapping

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
    for part in sorted(new.keys() | old.keys()):
        before, after = old.get(part), new.get(part)
        if before == after:
            continue
        name = part.split(":", 1)[1]
        if part.startswith(UPSTREAM):
            what = f"upstream output {sources.get(name, '?')} (input {name})"
        else:
            what = f"input {name}"
        if before is None or after is None:
            return f"{what} {'is new' if before is None else 'is gone'}"
        return f"{what} changed: {_short(before)} -> {_short(after)}"
    return "its key changed"
