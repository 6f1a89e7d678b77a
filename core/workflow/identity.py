"""Pass-through nodes: nipype's IdentityInterface, the ``inputnode`` / ``outputnode``
that give a nested workflow named inputs and outputs, or fan one value out to many."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from .._errors import ValidationError
from .node import Node, check_name
from .task import MANDATORY


class IdentityTask:
    """Outputs its inputs unchanged, under the same names."""

    __slots__ = ("output_names",)

    def __init__(self, fields: Sequence[str]) -> None:
        self.output_names = tuple(check_name("field", field) for field in fields)
        if not self.output_names:
            raise ValidationError("a pass-through node needs at least one field")

    def input_defaults(self) -> dict[str, Any]:
        return {field: MANDATORY for field in self.output_names}

    def digest(self) -> str:
        return "identity:" + ",".join(self.output_names)

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        return dict(inputs)

    def describe(self) -> str:
        return f"pass-through of {', '.join(self.output_names)}"


def IdentityNode(fields: Sequence[str], name: str, **kwargs: Any) -> Node:
    """A node whose outputs are its inputs (``fields``), for a nested workflow's
    ``inputnode`` and ``outputnode``: the outer workflow connects to
    ``"inner.inputnode.subject"`` and from ``"inner.outputnode.mask"``, whatever
    nodes the inner one uses. Accepts the keywords of :class:`Node` (iterables...).
    Like nipype's, it runs in the driver (``run_without_submitting``) unless told
    otherwise: a cluster job for a pass-through would cost seconds."""
    return Node(IdentityTask(fields), name=name, **{"run_without_submitting": True, **kwargs})
