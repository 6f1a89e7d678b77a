"""A driver script for the fault tests: ``python -m tests.dying_driver BASE_DIR A X``
runs ``a(A) -> x(X)`` on the linear backend. ``a`` raises for A = "boom"; ``x`` ends
its own process for X = "exit" (os._exit) or X = "segfault" (a read at address 0)."""

from __future__ import annotations

import ctypes
import logging
import os
import sys

from flowmill import Node, Workflow


def first(value: str) -> str:
    if value == "boom":
        raise ValueError("boom")
    return value


def second(upstream: str, mode: str) -> str:
    if mode == "exit":
        os._exit(7)
    if mode == "segfault":
        ctypes.string_at(0)
    return upstream + mode


def main(base_dir: str, a_value: str, x_mode: str) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    wf = Workflow("dying", base_dir=base_dir)
    a = Node(first, name="a")
    a.inputs.value = a_value
    x = Node(second, name="x")
    x.inputs.mode = x_mode
    wf.connect(a, "out", x, "upstream")
    wf.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
