"""What ``Workflow.run`` returns: every node's fate, and its outputs on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple, Sequence

from ..contract.states import NodeState
from ..store import results as store


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


class Expansion(NamedTuple):
    """One instance of a node expanded by iterables: its parameters (``{"a.x": 1}``,
    keyed by the iterable node's path and field), its outputs (None unless it ran or
    was cached) and its state."""

    params: dict[str, Any]
    outputs: Outputs | None
    state: NodeState


class RunResult:
    """The outcome of one run.

    ``res[name]`` gives a node's :class:`Outputs` (dotted names for nodes of nested
    workflows). For a node expanded by iterables it gives the list of its
    :class:`Expansion` s, in the iterables' order (the first iterable varies slowest);
    one instance can also be addressed by its job id, e.g. ``res["b[a.x=1]"]``. The
    lists ``executed``, ``cached``, ``failed``, ``skipped`` and ``pending`` hold job ids:
    what ran, what was reused from the cache, what failed, what did not run because an
    upstream node failed, and what a scheduler still holds.
    """

    def __init__(self, workflow_dir: Path, run_id: str,
                 nodes: Mapping[str, tuple[Sequence[tuple[str, dict[str, Any]]], Sequence[str]]],
                 dirs: Mapping[str, Path], states: Mapping[str, NodeState], crash_files: Mapping[str, Path]) -> None:
        self.workflow_dir = workflow_dir
        self.run_id = run_id
        self._nodes = dict(nodes)
        self._dirs = dict(dirs)
        self._outputs = {job_id: names for expansions, names in self._nodes.values() for job_id, _ in expansions}
        self._states = dict(states)
        self.crash_files = dict(crash_files)

    def _with(self, state: NodeState) -> list[str]:
        return [name for name, value in self._states.items() if value == state]

    @property
    def executed(self) -> list[str]:
        return self._with(NodeState.RAN)

    @property
    def cached(self) -> list[str]:
        return self._with(NodeState.CACHED)

    @property
    def failed(self) -> list[str]:
        return self._with(NodeState.FAILED)

    @property
    def skipped(self) -> list[str]:
        return self._with(NodeState.SKIPPED)

    @property
    def pending(self) -> list[str]:
        return self._with(NodeState.PENDING)

    def state(self, job_id: str) -> NodeState:
        return self._states[job_id]

    def _outputs_of(self, job_id: str, names: Sequence[str]) -> Outputs | None:
        if self._states.get(job_id) not in (NodeState.RAN, NodeState.CACHED):
            return None
        return Outputs(job_id, self._dirs[job_id], names)

    def __getitem__(self, name: str) -> Any:
        if name in self._nodes:
            expansions, names = self._nodes[name]
            if len(expansions) == 1 and not expansions[0][1]:
                return self._single(expansions[0][0], names)
            return [Expansion(params, self._outputs_of(job_id, names), self._states.get(job_id, NodeState.NOT_RUN))
                    for job_id, params in expansions]
        if name in self._dirs:
            return self._single(name, self._outputs.get(name, ()))
        raise KeyError(f"no node {name!r} in this run; nodes are {sorted(self._nodes)[:20]}")

    def _single(self, job_id: str, names: Sequence[str]) -> Outputs:
        outputs = self._outputs_of(job_id, names)
        if outputs is None:
            state = self._states.get(job_id, NodeState.NOT_RUN)
            crash = self.crash_files.get(job_id)
            raise KeyError(f"node {job_id!r} has no outputs: it {state}" + (f" (crash file: {crash})" if crash else ""))
        return outputs

    def __contains__(self, name: object) -> bool:
        return name in self._nodes or name in self._dirs

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        counts = {state.value: len(self._with(state)) for state in NodeState if state != NodeState.NOT_RUN}
        return f"RunResult({self.workflow_dir}, " + ", ".join(f"{k}={v}" for k, v in counts.items() if v) + ")"
