"""The fenced code blocks of README.md and docs/**/*.md, and what each declares it needs
to run, so that tests/test_docs.py can run every python and sh block as written.

A block declares its needs in HTML comments on the lines right above its fence:

- ``<!-- setup: X -->``: run something first, in the same directory. X is a
  ``runnable`` of the same document (its script runs first, as its own process), a
  named setup of tests/doc_setups.py, or else code put before the block's own.
- ``<!-- runnable: NAME -->``: the blocks of one name, in document order, form one
  script (steps explained between blocks); the first of them carries its other needs.
- ``<!-- needs: sge -->`` (or ``slurm``, ``ipython``): it runs against that cluster,
  the one the test suite starts.
- ``<!-- not-runnable: REASON -->``: it is not run, for the reason given.

Anything else (a fence without a language, any other comment right above a block, a
directive on a block that is not run) is a problem the suite reports: a misspelt
directive must not silently turn a check off. Output and data blocks (``text``,
``console``, ``toml``, ...) are read but not run.

The parser is our own: pytest-examples and phmdoctest run python blocks only and skip
what they cannot run without saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN = ("python", "sh")
"""The languages whose blocks run."""
ALIASES = {"py": "python", "python3": "python", "bash": "sh", "shell": "sh", "zsh": "sh"}
"""Spellings of a run language that would otherwise go unrun."""
CLUSTERS = ("sge", "slurm", "ipython")
DIRECTIVE = re.compile(r"<!--\s*(setup|runnable|needs|not-runnable):\s*(.*?)\s*-->")
COMMENT = re.compile(r"<!--.*-->")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Block:
    """One fenced block: where it starts (the fence's line, 1-based), its language,
    its code (the list item's indentation removed) and the directives above it."""

    path: str
    line: int
    lang: str
    code: str
    directives: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def values(self, key: str) -> list[str]:
        return [value for name, value in self.directives if name == key]

    def value(self, key: str) -> str | None:
        found = self.values(key)
        return found[0] if found else None


@dataclass
class Example:
    """What one test runs: a block, or the blocks of one ``runnable`` name."""

    blocks: list[Block]

    @property
    def first(self) -> Block:
        return self.blocks[0]

    @property
    def lang(self) -> str:
        return self.first.lang

    @property
    def needs(self) -> str | None:
        return self.first.value("needs")

    @property
    def id(self) -> str:
        """``file:line``, with the cluster appended, so that ``-k sge`` selects the
        examples that run on SGE as it selects the SGE suite's own tests."""
        return self.first.where + (f"-{self.needs}" if self.needs else "")

    @property
    def code(self) -> str:
        return "".join(block.code for block in self.blocks)


def documents(repo: Path = REPO) -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]


def _comments_above(lines: list[str], index: int) -> list[str]:
    """The HTML comment lines right above line ``index``, top first."""
    found: list[str] = []
    while index > 0 and COMMENT.fullmatch(lines[index - 1].strip()):
        index -= 1
        found.insert(0, lines[index].strip())
    return found


def _directives(block: Block, comments: list[str]) -> None:
    for comment in comments:
        match = DIRECTIVE.fullmatch(comment)
        if not match:
            block.problems.append(f"{block.where}: unknown comment above the block: {comment} "
                                  "(directives: setup:, runnable:, needs:, not-runnable:)")
            continue
        key, value = match.groups()
        if not value:
            block.problems.append(f"{block.where}: `{key}:` without a value"
                                  + (" (say why the block cannot run)" if key == "not-runnable" else ""))
        elif key == "needs" and value not in CLUSTERS:
            block.problems.append(f"{block.where}: needs: {value} is none of {', '.join(CLUSTERS)}")
        block.directives.append((key, value))
    if block.directives and block.lang not in RUN:
        block.problems.append(f"{block.where}: directives on a {block.lang!r} block, which is not run")
    if block.value("not-runnable") and len(block.directives) > 1:
        block.problems.append(f"{block.where}: a not-runnable block takes no other directive")
    for key in ("runnable", "needs"):
        if len(block.values(key)) > 1:
            block.problems.append(f"{block.where}: more than one `{key}:`")


def parse(text: str, path: str) -> list[Block]:
    """Every fenced block of a Markdown text, in order, with its directives and the
    problems found in them."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].split()
        block = Block(path, index + 1, words[0] if words else "", "")
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            line = lines[index]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))):])
            index += 1
        if index == len(lines):
            block.problems.append(f"{block.where}: the fence is never closed")
        index += 1
        block.code = "".join(line + "\n" for line in body)
        if not block.lang:
            block.problems.append(f"{block.where}: a fence without a language: name it "
                                  "(python, sh; text or console for output)")
        elif block.lang in ALIASES:
            block.problems.append(f"{block.where}: write `{ALIASES[block.lang]}`, not `{block.lang}`: "
                                  f"only {' and '.join(RUN)} blocks run")
        _directives(block, _comments_above(lines, block.line - 1))
        blocks.append(block)
    return blocks


def examples(blocks: list[Block]) -> list[Example]:
    """The document's runnable examples: each python or sh block alone, or the blocks
    of one ``runnable`` name together; not-runnable blocks are left out."""
    found: list[Example] = []
    named: dict[str, Example] = {}
    for block in blocks:
        if block.lang not in RUN or block.value("not-runnable"):
            continue
        name = block.value("runnable")
        if name is None:
            found.append(Example([block]))
        elif name in named:
            named[name].blocks.append(block)
        else:
            named[name] = Example([block])
            found.append(named[name])
    return found


def runnable_problems(example: Example) -> list[str]:
    """What is wrong with how a ``runnable``'s blocks are declared."""
    problems = []
    for block in example.blocks[1:]:
        if block.lang != example.lang:
            problems.append(f"{block.where}: a {block.lang} block in the {example.lang} runnable "
                            f"of {example.first.where}")
        if block.values("setup") or block.values("needs"):
            problems.append(f"{block.where}: setup: and needs: go on the first block of the "
                            f"runnable ({example.first.where})")
    return problems


def read(repo: Path = REPO) -> dict[str, list[Block]]:
    """Every document's blocks, by path relative to the repository."""
    return {path.relative_to(repo).as_posix(): parse(path.read_text(encoding="utf-8"),
                                                     path.relative_to(repo).as_posix())
            for path in documents(repo)}
