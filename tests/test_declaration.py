"""Declaration mistakes of a backend author, as ``flowmill plugins --check`` and the
kit's declaration case report them: each finding names the backend, its distribution,
the option and the fix; ``flowmill plugins`` lists the others regardless."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

import flowmill.backend as api
from flowmill.contract.declaration import check_backend, check_capabilities, check_executor

from . import misbehaving as mb
from .test_plugin_system import install_distribution


def declared(options: type, contract: int = 2, **extra: Any) -> list[str]:
    return check_backend(api.Backend("mine", "a backend", contract, options, **extra), "flowmill-mine 1.0")


def test_a_well_declared_backend_has_no_findings():
    @dataclass(frozen=True)
    class Good:
        queue: str = field(default="", metadata={"help": "queue"})
        mode: Literal["a", "b"] = field(default="a", metadata={"help": "mode", "merge": "run-only"})
        slots: int | None = field(default=None, metadata={"help": "slots"})
        hosts: list[str] = field(default_factory=list, metadata={"help": "hosts"})

    assert declared(Good) == []


def test_options_that_are_not_a_dataclass():
    class Plain:
        queue: str = ""

    [finding] = declared(Plain)
    assert finding.startswith("backend 'mine' (flowmill-mine 1.0): options ")
    assert "is not a dataclass: declare the options as @dataclass(frozen=True)" in finding


def test_an_option_without_default():
    @dataclass(frozen=True)
    class NoDefault:
        queue: str = field(metadata={"help": "queue"})

    assert declared(NoDefault) == [
        "backend 'mine' (flowmill-mine 1.0): option queue has no default: every option needs one "
        '(field(default=..., metadata={"help": "what it does"}))']


def test_a_default_contradicting_its_annotation():
    @dataclass(frozen=True)
    class WrongDefault:
        workers: int = field(default="4", metadata={"help": "workers"})  # type: ignore[assignment]

    assert declared(WrongDefault) == [
        "backend 'mine' (flowmill-mine 1.0): option workers: its default '4' is not a int: make the default "
        "match the annotation"]


@pytest.mark.parametrize("annotation", [tuple[int, int], Any, pathlib.Path], ids=["tuple", "Any", "Path"])
def test_unsupported_option_types(annotation):
    Options = dataclass(frozen=True)(type("Options", (), {"__annotations__": {"x": annotation},
                                                          "x": field(default=None, metadata={"help": "x"})}))
    findings = declared(Options)
    assert any(f.startswith("backend 'mine' (flowmill-mine 1.0): option x: type ") and
               "is not supported: use bool, int, float, str, a Literal" in f for f in findings), findings


def test_an_option_without_help():
    @dataclass(frozen=True)
    class NoHelp:
        queue: str = ""

    assert declared(NoHelp) == ["backend 'mine' (flowmill-mine 1.0): option queue has no help text: add "
                                'metadata={"help": "..."} (flowmill plugins shows it)']


def test_an_unknown_merge_policy():
    @dataclass(frozen=True)
    class BadMerge:
        queue: str = field(default="", metadata={"help": "q", "merge": "concat"})

    assert declared(BadMerge) == ["backend 'mine' (flowmill-mine 1.0): option queue: metadata merge='concat' "
                                  "is not one of append, replace, run-only"]


def test_append_on_an_option_that_is_not_text():
    @dataclass(frozen=True)
    class AppendInt:
        workers: int = field(default=1, metadata={"help": "w", "merge": "append"})

    assert declared(AppendInt) == ["backend 'mine' (flowmill-mine 1.0): option workers: metadata merge='append' "
                                   "needs a str option: use 'replace'"]


def test_another_contract_version():
    @dataclass(frozen=True)
    class Fine:
        pass

    [finding] = declared(Fine, contract=1)
    assert finding.startswith("backend 'mine' (flowmill-mine 1.0): written for contract 1, this flowmill "
                              "speaks contract 2: port it")


def test_a_mode_with_options_the_schema_refuses():
    @dataclass(frozen=True)
    class Fine:
        pass

    [finding] = declared(Fine, modes={"fast": {"speed": 3}})
    assert finding.startswith("backend 'mine' (flowmill-mine 1.0): mode 'fast' ({'speed': 3}) fails: ")
    assert "unknown option(s) speed" in finding


def test_timeouts_cancel_on_a_graph_executor_needs_start_reports():
    [finding] = check_capabilities(api.Capabilities(timeouts="cancel"), True, "backend 'mine'")
    assert "timeouts='cancel' on a graph executor needs reports_starts=True" in finding
    assert check_capabilities(api.Capabilities(timeouts="cancel"), False, "backend 'mine'") == []


def test_an_executor_missing_a_method_or_with_zero_slots():
    class NoWait(mb.ThreadJobs):
        wait = None  # type: ignore[assignment]

    assert check_executor(NoWait.__new__(NoWait), "backend 'mine'") == [
        "backend 'mine': its JobExecutor has no wait() method: see docs/plugins.md"]
    assert check_executor(mb.ZeroSlots.__new__(mb.ZeroSlots), "backend 'mine'") == [
        "backend 'mine': its executor's slots is 0: set a positive int, or None for no cap"]


UNDEFINED_TYPE = """
    from __future__ import annotations
    from dataclasses import dataclass, field
    import flowmill.backend as api

    @dataclass(frozen=True)
    class Options:
        queue: QueueName = field(default="all", metadata={"help": "the queue"})

    @dataclass(frozen=True)
    class OldOptions:
        pass

    @api.hookimpl
    def flowmill_backends():
        return [api.Backend("undefined", "an undefined type", 2, Options),
                api.Backend("oldie", "written for contract 1", 1, OldOptions)]
    """


def test_an_undefined_annotation_does_not_end_the_listing(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_distribution(site, "flowmill-undefined", "undefined", "flowmill_undefined", UNDEFINED_TYPE)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listing = subprocess.run([sys.executable, "-m", "flowmill.cli", "plugins"], env=env, capture_output=True,
                             text=True)
    assert listing.returncode == 0, listing.stderr
    assert "linear  (flowmill-linear" in listing.stdout
    assert ("undefined  (flowmill-undefined 1.0, contract 2)\n  an undefined type\n  BROKEN DECLARATION: "
            "backend 'undefined' mode 'default': option queue: its annotation does not resolve (NameError: "
            "name 'QueueName' is not defined)") in listing.stdout
    assert ("oldie  (flowmill-undefined 1.0, contract 1)\n  written for contract 1\n  INCOMPATIBLE: written "
            "for contract 1, this flowmill speaks contract 2; runs on it are refused") in listing.stdout
    check = subprocess.run([sys.executable, "-m", "flowmill.cli", "plugins", "--check", "undefined"], env=env,
                           capture_output=True, text=True)
    assert check.returncode == 1
    assert check.stdout == ("backend 'undefined' (flowmill-undefined 1.0): option queue: its annotation does not "
                            "resolve (NameError: name 'QueueName' is not defined): import the type in "
                            "flowmill_undefined, or use one of bool, int, float, str, Literal\n")
