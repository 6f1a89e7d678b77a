"""What the code part of a function node's cache key covers.

The digest of a node's function covers, transitively, the code that runs when it is
called, as far as the user's own code goes:

- its source text (bytecode where there is none) and its default argument values;
- every global name it uses: a function, class or module of the user's own code (any
  file outside the standard library, site-packages and flowmill itself, wherever it
  is defined: the same script, a module next to it, an editable install) is walked
  the same way; a module-level constant is hashed by value (like an input); a
  function, class or module of an installed library is covered by its name only;
- the attributes it uses of the user's modules (``helpers.scale(x)`` walks
  ``helpers.scale``), the methods and source of the user's classes it uses, and the
  class of a user's object held in a global;
- the values its closure captured (``make_step(k)`` returning a function of ``k``).

What it cannot see: code reached only at run time through values (a function passed
as an input is hashed as an input value, by pickle; ``getattr(module, name)`` with a
computed name), the user's modules imported inside a function body, files a function
reads that are not inputs, installed libraries' code and versions (upgrading numpy
reruns nothing, unless the run option ``cache_libraries`` compares the versions of the
modules the walk notes: :func:`code_modules`), C extensions, global objects that
cannot be pickled (covered by their type's name). A long-lived worker (an IPython
engine) reloads the user's modules edited since it imported them before each job
(:func:`forget_stale_modules`), so it runs the code the key was taken from. A global the function mutates (a memo dict)
is hashed as it is when the key is taken, so its key follows that state: a spurious
rerun, never a stale result. The escape hatch stays ``version=`` on the node. Digests are computed once per function per graph build (:func:`forget_code`).
"""

from __future__ import annotations

import dis
import functools
import importlib.machinery
import os
import site
import sys
import sysconfig
import types
from typing import Any, Callable

from .hashing import digest_bytes, source_digest, value_digest

_walks: dict[int, tuple[Any, str, frozenset[str]]] = {}
_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def forget_code() -> None:
    """Drop the digests memoised so far: the next build sees code as it is now."""
    _walks.clear()


def code_digest(func: Callable[..., Any]) -> str:
    """The digest of ``func`` and of the user's code it reaches (see the module doc)."""
    return _walked(func)[0]


def code_modules(func: Callable[..., Any]) -> frozenset[str]:
    """The top-level names of the modules outside the user's code that ``func``'s code
    reaches: through globals, attribute chains, imports inside a function body, the
    types of global values. Standard library names included: :mod:`.libraries` keeps
    those an installed distribution provides (``cache_libraries``)."""
    return _walked(func)[1]


def _walked(func: Callable[..., Any]) -> tuple[str, frozenset[str]]:
    """One walk per function per graph build gives both its digest and its modules."""
    memo = _walks.get(id(func))
    if memo is not None and memo[0] is func:
        return memo[1], memo[2]
    walk = _Walk()
    digest = walk.callable(func)
    _walks[id(func)] = (func, digest, frozenset(walk.modules))
    return digest, frozenset(walk.modules)


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    roots.update(entry for entry in sys.path if os.path.basename(entry) in ("site-packages", "dist-packages"))
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.join(os.path.realpath(root), "") for root in roots if root)


@functools.lru_cache(maxsize=4096)
def _is_library_file(filename: str | None) -> bool:
    if not filename or filename.startswith("<frozen"):
        return True
    if filename.startswith("<"):
        return False
    return os.path.realpath(filename).startswith(_library_roots())


def _is_library_module(module: types.ModuleType) -> bool:
    return _is_library_file(getattr(module, "__file__", None))


def _defined_in_library(obj: Any) -> bool:
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    return module is None or _is_library_module(module)


def _names(code: types.CodeType) -> set[str]:
    """Global and attribute names used by ``code`` and the code nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _imports(code: types.CodeType) -> set[str]:
    """Top-level names of the modules ``code`` (and the code nested in it) imports
    absolutely: ``import a.b`` and ``from a import b`` in a function body. Relative
    imports name the user's own package and are left out."""
    found: set[str] = set()
    if _IMPORT_NAME in code.co_code[::2]:
        instructions = list(dis.get_instructions(code))
        for at, instruction in enumerate(instructions):
            if instruction.opcode != _IMPORT_NAME or not instruction.argval:
                continue
            level = instructions[at - 2] if at >= 2 else None
            if level is None or level.opname != "LOAD_CONST" or level.argval == 0:
                found.add(instruction.argval.partition(".")[0])
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _imports(const)
    return found


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


class _Walk:
    """One walk from one node function. Results are memoised only when no cycle cut
    them short, so a digest never depends on which function the walk started from."""

    def __init__(self) -> None:
        self.done: dict[tuple[int, int], str] = {}
        self.active: set[tuple[int, int]] = set()
        self.cuts = 0
        self.modules: set[str] = set()
        """Top-level names of the modules outside the user's code reached so far."""

    def _library(self, module: str | None, name: str) -> str:
        """The key's part for library code: its name; its module is noted."""
        if module:
            self.modules.add(module.partition(".")[0])
        return "lib:" + name

    def callable(self, func: Any) -> str:
        if isinstance(func, types.FunctionType):
            return self._guarded(func, self._function)
        if isinstance(func, functools.partial):
            return f"partial({self.callable(func.func)},{self._value(func.args)},{self._value(func.keywords)})"
        if isinstance(func, types.MethodType):
            return f"method({self.callable(func.__func__)},{self.object(func.__self__, set())})"
        self._library(getattr(type(func), "__module__", None), "")
        return source_digest(func)

    def _guarded(self, obj: Any, walk: Callable[[Any], str], context: object = None) -> str:
        """``walk(obj)``, memoised and cut at cycles; ``context`` is what else the
        result depends on (the names a module is looked up for)."""
        key = (id(obj), id(context))
        if key in self.done:
            return self.done[key]
        if key in self.active:
            self.cuts += 1
            return "cycle:" + _name(obj)
        self.active.add(key)
        cuts = self.cuts
        try:
            digest = walk(obj)
        finally:
            self.active.discard(key)
        if cuts == self.cuts:
            self.done[key] = digest
        return digest

    def _function(self, func: types.FunctionType) -> str:
        if _is_library_file(func.__code__.co_filename):
            return self._library(func.__module__, _name(func))
        self.modules |= _imports(func.__code__)
        names = _names(func.__code__)
        parts = [source_digest(func), self._value(func.__defaults__), self._value(func.__kwdefaults__)]
        scope = func.__globals__
        parts.extend(f"{name}={self.object(scope[name], names)}" for name in sorted(names) if name in scope)
        for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
            try:
                parts.append(f"<{name}>={self.object(cell.cell_contents, names)}")
            except ValueError:  # a cell not filled yet
                continue
        return digest_bytes("\n".join(parts).encode())

    def object(self, obj: Any, names: set[str]) -> str:
        """What a name the code uses stands for, as far as the key is concerned."""
        if isinstance(obj, types.ModuleType):
            if _is_library_module(obj):
                return self._library(obj.__name__, obj.__name__)
            return self._guarded(obj, lambda module: self._module(module, names), names)
        if isinstance(obj, type):
            return self._library(obj.__module__, _name(obj)) if _defined_in_library(obj) else self._guarded(obj, self._class)
        if isinstance(obj, (types.FunctionType, functools.partial, types.MethodType)):
            return self.callable(obj)
        if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            return self._library(getattr(obj, "__module__", None), _name(obj))
        if not _defined_in_library(type(obj)):
            return f"{self._guarded(type(obj), self._class)}:{self._value(obj)}"
        self._library(type(obj).__module__, "")
        return self._value(obj)

    def _module(self, module: types.ModuleType, names: set[str]) -> str:
        scope = vars(module)
        return module.__name__ + "{" + ",".join(f"{name}={self.object(scope[name], names)}"
                                                for name in sorted(names) if name in scope) + "}"

    def _class(self, cls: type) -> str:
        parts = [source_digest(cls)]
        for name, member in sorted(vars(cls).items()):
            member = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            member = member.fget if isinstance(member, property) else member
            if isinstance(member, types.FunctionType):
                parts.append(f"{name}={self.callable(member)}")
        return digest_bytes("\n".join(parts).encode())

    @staticmethod
    def _value(value: Any) -> str:
        try:
            return value_digest(value)
        except Exception:  # an object that cannot be pickled is covered by its type only
            return "unhashable:" + _name(type(value))



_seen: dict[str, tuple[str, int]] = {}
"""For each user module a long-lived worker imported: its file and that file's mtime then."""


def _now_found_at(name: str) -> str | None:
    """Where a top-level module would be imported from now (the worker's ``sys.path``
    may have changed since: a later run from another directory)."""
    spec = importlib.machinery.PathFinder.find_spec(name, sys.path)
    return None if spec is None else spec.origin


def forget_stale_modules() -> list[str]:
    """Drop from ``sys.modules`` the user's modules whose source changed, or that would
    now be imported from elsewhere, since this process imported them; the next unpickling
    imports them afresh. Call it before a job is unpickled and after it ran (to note
    the modules the job imported).

    A long-lived worker (an IPython engine) keeps the modules it imported for an
    earlier job; a job of a later run whose code the user edited would otherwise run
    the old code under the new cache key. Library modules are never touched. Returns
    the names dropped."""
    stale = []
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if module is None or not filename or _is_library_module(module):
            continue
        try:
            mtime = os.stat(filename).st_mtime_ns
        except OSError:
            mtime = -1
        if _seen.setdefault(name, (filename, mtime)) != (filename, mtime) or (
                "." not in name and _now_found_at(name) not in (None, filename)):
            stale.append(name)
    dropped = [name for name in list(sys.modules)
               if any(name == root or name.startswith(root + ".") for root in stale)]
    for name in dropped:
        del sys.modules[name]
        _seen.pop(name, None)
    return dropped
