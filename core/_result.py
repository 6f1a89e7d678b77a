"""What ``Workflow.run`` returns: every node's fate, and its outputs on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from . import _store as store


class Outputs:
    """One node's outputs as attributes (``res["b"].out``), read from the result store
    the first time one is asked for, so a run's result stays small in memory."""

    __slots__ = ("_node", "_dir", "_names", "_values")

    def __init__(self, node: str, node_dir: Path, names: Sequence[str]) -> None:
        self._node = node
        self._dir = node_dir
        self._names = tuple(names)
        self._values: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            self._values = store.read_outputs(self._dir)
        return self._values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._names:
            raise AttributeError(f"node {self._node!r} has no output {name!r}; its outputs are {list(self._names)}")
        return self._load()[name]

    def dict(self) -> dict[str, Any]:
        return dict(self._load())

    def __repr__(self) -> str:
        return f"Outputs({self._node!r}, {list(self._names)})"


class RunResult:
    """The outcome of one run. ``res[name]`` gives a node's :class:`Outputs` (dotted
    names for nodes of nested workflows); the lists say which nodes ran, were reused
    from the cache, failed, were skipped because an upstream node failed, or are still
    pending on a scheduler that the run left them with."""

    def __init__(self, workflow_dir: Path, run_id: str, nodes: Mapping[str, tuple[Path, Sequence[str]]],
                 states: Mapping[str, str], crash_files: Mapping[str, Path]) -> None:
        self.workflow_dir = workflow_dir
        self.run_id = run_id
        self._nodes = dict(nodes)
        self._states = dict(states)
        self.crash_files = dict(crash_files)

    def _with(self, state: str) -> list[str]:
        return [name for name, value in self._states.items() if value == state]

    @property
    def executed(self) -> list[str]:
        return self._with("ran")

    @property
    def cached(self) -> list[str]:
        return self._with("cached")

    @property
    def failed(self) -> list[str]:
        return self._with("failed")

    @property
    def skipped(self) -> list[str]:
        return self._with("skipped")

    @property
    def pending(self) -> list[str]:
        return self._with("pending")

    def state(self, name: str) -> str:
        return self._states[name]

    def __getitem__(self, name: str) -> Outputs:
        if name not in self._nodes:
            raise KeyError(f"no node {name!r} in this run; nodes are {sorted(self._nodes)[:20]}")
        state = self._states.get(name)
        if state not in ("ran", "cached"):
            raise KeyError(f"node {name!r} has no outputs: it {state}"
                           + (f" (crash file: {self.crash_files[name]})" if name in self.crash_files else ""))
        node_dir, names = self._nodes[name]
        return Outputs(name, node_dir, names)

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        counts = {state: len(self._with(state)) for state in ("ran", "cached", "failed", "skipped", "pending")}
        return f"RunResult({self.workflow_dir}, " + ", ".join(f"{k}={v}" for k, v in counts.items() if v) + ")"
