"""The layout rules, checked on the source: plugins import only the public modules of
the core, and the core's stage subpackages import each other in one direction only
(workflow -> execution -> contract -> store), so the tree tells the data flow."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "core"
PACKAGE = "flowmill"

PUBLIC = {"flowmill", "flowmill.backend", "flowmill.worker", "flowmill.testing", "flowmill.hookspecs"}
"""What a plugin may import: the user's vocabulary, the backend author's API, the
worker entry point, the conformance kit and the hook specifications."""

STAGES = ("workflow", "execution", "contract", "store")
"""The core's stage subpackages, in data-flow order: each may import only later ones."""


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from runtime_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        yield from runtime_imports(node)


def is_core_module(dotted: str) -> bool:
    """Whether ``flowmill.a.b`` names a module or package of the core (not an attribute)."""
    path = CORE.joinpath(*dotted.split(".")[1:])
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The absolute module names one import statement loads, ``package`` being the
    package of the importing file (for relative imports). ``from a import b`` loads
    ``a.b`` when that is a module of the core, else ``a``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = package.split(".")
    if node.level:
        base = base[:len(base) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    found = []
    for alias in node.names:
        candidate = f"{module}.{alias.name}"
        found.append(candidate if candidate.startswith(PACKAGE + ".") and is_core_module(candidate) else module)
    return found


def package_of(path: Path) -> str:
    """The package a file of the core belongs to (a package's ``__init__`` included)."""
    return ".".join([PACKAGE, *path.relative_to(CORE).parts[:-1]])


def test_plugins_import_only_public_core_modules():
    offences = []
    for path in sorted((REPO / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or getattr(node, "level", 0):
                continue
            for module in dict.fromkeys(imported_modules(node, "")):
                if (module == PACKAGE or module.startswith(PACKAGE + ".")) and module not in PUBLIC:
                    offences.append(f"{path.relative_to(REPO)}:{node.lineno} imports {module}")
    assert offences == [], "plugins must import only " + ", ".join(sorted(PUBLIC)) + ":\n" + "\n".join(offences)


def unit_of(module: str) -> str:
    """The unit of the core a module belongs to: its stage subpackage, or itself when
    it is a top-level module (``flowmill._errors`` -> ``_errors``)."""
    return module.split(".")[1]


def core_import_graph() -> dict[str, dict[str, str]]:
    """unit -> imported unit -> where (the first ``file:line`` importing it), runtime
    imports only."""
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(CORE.rglob("*.py")):
        package = package_of(path)
        module = f"{package}.{path.stem}" if path.stem != "__init__" else package
        unit = unit_of(module) if module != PACKAGE else "__init__"
        graph[unit]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in runtime_imports(tree):
            for target in imported_modules(node, package):
                if target.startswith(PACKAGE + ".") and unit_of(target) != unit:
                    graph[unit].setdefault(unit_of(target), f"core/{path.relative_to(CORE)}:{node.lineno}")
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str]:
    """One cycle of ``graph`` as a list of units (first == last), or [] if none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(unit: str) -> list[str]:
        state[unit] = "open"
        stack.append(unit)
        for target in graph.get(unit, {}):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[unit] = "done"
        return []

    for unit in sorted(graph):
        if unit not in state and (cycle := visit(unit)):
            return cycle
    return []


def test_no_import_cycle_between_the_units_of_the_core():
    graph = core_import_graph()
    cycle = find_cycle(graph)
    steps = [f"{a} -> {b} ({graph[a][b]})" for a, b in itertools.pairwise(cycle)]
    assert not cycle, "import cycle between core units:\n  " + "\n  ".join(steps)


def test_stages_import_only_downstream_stages_and_leaf_modules():
    assert all((CORE / stage / "__init__.py").is_file() for stage in STAGES), f"core/ must hold {STAGES}"
    graph = core_import_graph()
    offences = []
    for rank, stage in enumerate(STAGES):
        for target, where in graph[stage].items():
            if target in STAGES[:rank]:
                offences.append(f"{stage} imports {target}, upstream of it ({where})")
            elif target not in STAGES:
                upward = sorted(set(graph[target]) & set(STAGES))
                if upward:
                    offences.append(f"{stage} imports top-level {target} ({where}), which imports the "
                                    f"stage(s) {', '.join(upward)}: only leaf modules may sit below the stages")
    assert offences == [], "\n".join(offences)


def test_the_cycle_finder_names_a_cycle():
    graph = {"store": {"contract": "x:1"}, "contract": {"execution": "y:2"}, "execution": {"store": "z:3"}}
    assert find_cycle(graph) == ["contract", "execution", "store", "contract"]
    assert find_cycle({"workflow": {"execution": "a:1"}, "execution": {}}) == []
