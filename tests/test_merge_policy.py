"""How a node's ``plugin_args`` merge over the run's backend options, option by
option (``metadata["merge"]``), and which options a node may not set at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from flowmill import PluginError
from flowmill.contract.options import merge_node_options


@dataclass(frozen=True)
class Options:
    args: str = field(default="", metadata={"help": "appended by default"})
    queue: str = field(default="", metadata={"help": "declared replace", "merge": "replace"})
    mode: Literal["fast", "slow"] = field(default="fast", metadata={"help": "a Literal string"})
    note: str | None = field(default=None, metadata={"help": "optional text, appended"})
    workers: int = field(default=1, metadata={"help": "run-only", "merge": "run-only"})


def merge(run: dict, node: dict) -> dict:
    return merge_node_options(Options, {**{"args": "", "queue": "", "mode": "fast", "note": None, "workers": 1},
                                        **run}, node, "node 'n'")


def test_a_plain_string_option_appends_the_nodes_text_to_the_runs():
    assert merge({"args": "-q all", "note": "a"}, {"args": "-l mem=4G", "note": "b"})["args"] == "-q all -l mem=4G"
    assert merge({"note": "a"}, {"note": "b"})["note"] == "a b"


def test_a_literal_string_option_from_a_node_replaces_the_runs():
    assert merge({"mode": "fast"}, {"mode": "slow"})["mode"] == "slow"


def test_a_string_option_declared_replace_is_replaced():
    assert merge({"queue": "all.q"}, {"queue": "gpu.q"})["queue"] == "gpu.q"


def test_overwrite_replaces_even_appending_options():
    assert merge({"args": "-q all"}, {"args": "-l mem=4G", "overwrite": True})["args"] == "-l mem=4G"


def test_a_run_only_option_from_a_node_is_refused_naming_it():
    with pytest.raises(PluginError, match=r"node 'n': workers apply to the whole run and cannot be set per node: "
                                          r"pass them to wf.run\(\) instead"):
        merge({}, {"workers": 4, "args": "x"})
