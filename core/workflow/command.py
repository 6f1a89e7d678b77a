"""Command-line tools as nodes.

A :class:`CommandTask` holds an argument-list template, its declared inputs and its
declared output files; :class:`CommandNode` is a :class:`~flowmill.Node` running one.
The tool runs in the node's own directory (where its stdout, stderr and exact command
line are kept), without a shell unless asked for, and its outputs come back as
:class:`~flowmill.File` values, so downstream cache keys follow their content.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import typing
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from .._errors import FlowmillError, ValidationError
from .._processes import kill_process_tree
from ..store import results as store
from ..store.files import File
from ..store.locks import LOCK
from .filetypes import as_files, file_kind, missing_file
from .node import Node
from .task import MANDATORY
from .templates import placeholders, render_arguments, render_name, render_shell

InputSpec = Union[type, tuple[type, Any]]
"""How an input is declared: its type (mandatory input) or ``(type, default)``."""

COMMAND_FILE = "command.txt"
STDOUT_FILE = "stdout.txt"
STDERR_FILE = "stderr.txt"
_RESERVED = {COMMAND_FILE, STDOUT_FILE, STDERR_FILE, store.RESULT, store.CRASH, store.JOB, LOCK}
_TAIL_LINES = 20
_TAIL_BYTES = 8192


class CommandError(FlowmillError):
    """A command node could not run its tool, or the tool did not produce what the
    node declares."""


class CommandFailed(CommandError):
    """The tool exited with a failure status (or ran out of time).

    The message carries the command line, the exit status and the tail of stderr,
    so the crash file explains the failure without opening the node directory; the
    same facts are attributes for programs.
    """

    def __init__(self, command: str, returncode: int | None, stderr_tail: str, node_dir: Path,
                 reason: str) -> None:
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.node_dir = node_dir
        stderr_file = node_dir / STDERR_FILE
        lines = [f"{reason}: {command}", f"  in {node_dir}"]
        if stderr_tail:
            lines.append(f"last lines of stderr ({stderr_file}):")
            lines.extend("  " + line for line in stderr_tail.splitlines())
        else:
            lines.append(f"stderr was empty ({stderr_file})")
        super().__init__("\n".join(lines))

    @property
    def crash_details(self) -> dict[str, Any]:
        """Structured facts for the crash file, so tools need not parse the message."""
        return {"command": self.command, "returncode": self.returncode, "stderr_tail": self.stderr_tail,
                "stderr_file": str(self.node_dir / STDERR_FILE)}


class CommandTimeout(CommandFailed):
    """The tool ran longer than the node's ``timeout``; it was killed with every
    process it started."""


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is not None:
        return f"{_type_name(typing.get_origin(tp))}[{', '.join(map(_type_name, typing.get_args(tp)))}]"
    return getattr(tp, "__name__", None) or str(tp)


def _parse_spec(name: str, spec: Any) -> tuple[Any, Any]:
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValidationError(f"input {name!r}: declare it as a type or as (type, default), got {spec!r}")
        tp, default = spec
    else:
        tp, default = spec, MANDATORY
    item = typing.get_args(tp)[0] if typing.get_origin(tp) is list and typing.get_args(tp) else None
    if not (isinstance(tp, type) or typing.get_origin(tp) is list) or (item is not None and not isinstance(item, type)):
        raise ValidationError(f"input {name!r}: {tp!r} is not a type; use e.g. File, int, str, float or list[File]")
    return tp, default


def _conforms(value: Any, tp: Any) -> bool:
    if typing.get_origin(tp) is list:
        args = typing.get_args(tp)
        return isinstance(value, (list, tuple)) and (not args or all(_conforms(v, args[0]) for v in value))
    if tp in (int, float) and isinstance(value, bool):
        return False
    if tp is float:
        return isinstance(value, (int, float))
    if tp is File:
        return isinstance(value, File) and value.is_absolute()
    return isinstance(value, tp)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - _TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").strip().splitlines()[-_TAIL_LINES:])


class CommandTask:
    """A command-line tool as a task; see :class:`CommandNode` for the arguments."""

    __slots__ = ("command", "shell", "inputs", "outputs", "stdout", "env", "timeout", "output_names", "_declared")

    def __init__(self, command: Sequence[str] | str, *, inputs: Mapping[str, InputSpec] | None = None,
                 outputs: Mapping[str, str] | None = None, stdout: str | None = None,
                 env: Mapping[str, str] | None = None, timeout: float | None = None,
                 shell: bool = False) -> None:
        if shell:
            if not isinstance(command, str) or not command.strip():
                raise ValidationError("with shell=True the command is one shell command line (a string)")
        elif isinstance(command, str) or not command or not all(isinstance(a, str) for a in command):
            raise ValidationError(f"command {command!r} must be a list of argument strings, e.g. "
                                  "['gzip', '-c', '{in_file}'] (or a string with shell=True to run it "
                                  "through /bin/sh)")
        if not shell and os.sep in command[0]:
            # A relative path to the tool means the directory the workflow is defined in,
            # not the node directory it runs in.
            command = [os.path.abspath(command[0]), *command[1:]]
        self.command: str | tuple[str, ...] = command if shell else tuple(command)
        self.shell = shell
        self.inputs = {name: _parse_spec(name, spec) for name, spec in (inputs or {}).items()}
        self.outputs = dict(outputs or {})
        self.stdout = stdout
        self.env = dict(env or {})
        self.timeout = timeout
        self.output_names = tuple(self.outputs)
        self._validate()
        self._declared = repr((self.command, self.shell, sorted((name, _type_name(tp)) for name, (tp, _) in
                                                                self.inputs.items()),
                               sorted(self.outputs.items()), self.stdout, sorted(self.env.items())))

    def _validate(self) -> None:
        clash = sorted(set(self.inputs) & set(self.outputs))
        if clash:
            raise ValidationError(f"{clash} are declared both as inputs and as outputs; rename one")
        for name in [*self.inputs, *self.outputs]:
            if not name.isidentifier():
                raise ValidationError(f"{name!r} is not a valid input or output name (use a Python identifier)")
        templates = [self.command] if isinstance(self.command, str) else list(self.command)
        if not self.shell and placeholders(templates[0]):
            raise ValidationError(f"the executable {templates[0]!r} must be a literal name or path, not a "
                                  "template: flowmill checks it exists and folds its identity into the cache key")
        known = set(self.inputs) | set(self.outputs)
        for template in templates:
            unknown = [name for name in placeholders(template) if name not in known]
            if unknown:
                raise ValidationError(f"argument {template!r} refers to {unknown[0]!r}, which is not declared; "
                                      f"inputs are {sorted(self.inputs)}, outputs are {sorted(self.outputs)}")
        for name, template in self.outputs.items():
            if not isinstance(template, str) or not template:
                raise ValidationError(f"output {name!r}: give a file name template such as '{{in_file.name}}.gz'")
            unknown = [ref for ref in placeholders(template) if ref not in self.inputs]
            if unknown:
                raise ValidationError(f"output {name!r} = {template!r} refers to {unknown[0]!r}; an output "
                                      f"name may refer to inputs only ({sorted(self.inputs)})")
        if self.stdout is not None and self.stdout not in self.outputs:
            raise ValidationError(f"stdout={self.stdout!r} must name a declared output (outputs: "
                                  f"{sorted(self.outputs)}), whose file then receives the tool's stdout")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()):
            raise ValidationError(f"env must map names to strings, got {self.env!r}")
        if self.timeout is not None and (isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float))
                                         or self.timeout <= 0):
            raise ValidationError(f"timeout must be a positive number of seconds, got {self.timeout!r}")

    @property
    def executable(self) -> str | None:
        """The program run (None for a shell command line, where /bin/sh runs it)."""
        return None if isinstance(self.command, str) else self.command[0]

    def input_defaults(self) -> dict[str, Any]:
        return {name: default for name, (_, default) in self.inputs.items()}

    def prepare(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs with paths given for ``File`` (or ``list[File]``) inputs turned
        into absolute Files: hashed by content, and valid from the node directory and
        from every host of the shared file system."""
        prepared = dict(inputs)
        for name, value in inputs.items():
            kind = file_kind(self.inputs.get(name, (None,))[0])
            if kind is not None:
                prepared[name] = as_files(value, kind)
        return prepared

    def _resolve_executable(self) -> str | None:
        path = self.env.get("PATH", os.environ.get("PATH", os.defpath))
        return shutil.which(self.executable, path=path) if self.executable else None

    def check(self, inputs: Mapping[str, Any]) -> None:
        """Refuse, before anything runs, a tool that is not installed here, set inputs
        of the wrong type or naming files that do not exist, and output names that
        would leave the node directory."""
        if self.executable and self._resolve_executable() is None:
            where = "is not an executable file" if os.sep in self.executable else "was not found on PATH"
            raise ValidationError(f"executable {self.executable!r} {where}; install it or give its full path "
                                  f"(PATH={self.env.get('PATH', os.environ.get('PATH', ''))})")
        for name, value in inputs.items():
            problem = self._input_problem(name, value)
            if problem:
                raise ValidationError(problem)
        for name, template in self.outputs.items():
            if all(ref in inputs for ref in placeholders(template)):
                try:
                    self._output_file(name, inputs)
                except CommandError as exc:
                    raise ValidationError(str(exc)) from None

    def _input_problem(self, name: str, value: Any) -> str | None:
        """What is wrong with a value for input ``name`` (its type, or a File that
        does not exist), or None."""
        tp, default = self.inputs[name]
        if value is None and default is None:
            return None
        if not _conforms(value, tp):
            hint = " (an absolute flowmill.File)" if "File" in _type_name(tp) else ""
            return f"input {name!r} is declared {_type_name(tp)}{hint}, got {type(value).__name__} {value!r}"
        path = missing_file(value)
        return None if path is None else f"input {name!r}: file {path!r} does not exist"

    def digest(self) -> str:
        """The command template, declarations, environment and the executable's
        identity (resolved path, size, mtime): editing the template or upgrading the
        tool reruns the node. The timeout is left out: it does not change results."""
        h = hashlib.blake2b(self._declared.encode(), digest_size=16)
        resolved = self._resolve_executable()
        if resolved is not None:
            real = os.path.realpath(resolved)
            stat = os.stat(real)
            h.update(f"|{real}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return h.hexdigest()

    def describe(self) -> str:
        return "command " + (self.command if isinstance(self.command, str) else " ".join(self.command))

    def _render(self, values: Mapping[str, Any]) -> tuple[list[str], str]:
        """The argument list to execute and the command line as a person reads it."""
        try:
            if isinstance(self.command, str):
                line = render_shell(self.command, values)
                return ["/bin/sh", "-c", line], line
            argv = render_arguments(self.command, values)
            return argv, shlex.join(argv)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"cannot fill in the command {self.describe()}: {exc}") from None

    def _output_file(self, name: str, values: Mapping[str, Any]) -> str:
        """Output ``name``'s path relative to the node directory; it must stay inside
        it and keep clear of the files flowmill writes there."""
        template = self.outputs[name]
        try:
            relative = os.path.normpath(render_name(template, values))
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"cannot fill in output {name!r} = {template!r}: {exc}") from None
        parts = Path(relative).parts
        if os.path.isabs(relative) or relative == "." or parts[0] == ".." or parts[-1] in _RESERVED:
            raise CommandError(f"output {name!r} = {template!r} gives {relative!r}, which is not a file of its "
                               f"own inside the node directory (names {sorted(_RESERVED)} are flowmill's)")
        return relative

    def _output_paths(self, values: Mapping[str, Any], workdir: Path) -> dict[str, File]:
        root = os.path.abspath(workdir)
        return {name: File(root, self._output_file(name, values)) for name in self.outputs}

    def run(self, inputs: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
        """Render the command, run it in ``workdir`` and return the output files."""
        values = self.prepare(inputs)
        for name, value in values.items():
            problem = self._input_problem(name, value)
            if problem:
                raise CommandError(problem)
        outputs = self._output_paths(values, workdir)
        argv, line = self._render({**values, **outputs})
        for path in outputs.values():
            _remove(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        (workdir / COMMAND_FILE).write_text(line + "\n", encoding="utf-8")
        stdout_path = outputs[self.stdout] if self.stdout else workdir / STDOUT_FILE
        try:
            self._execute(argv, line, workdir, stdout_path)
            missing = [f"{name} ({path})" for name, path in outputs.items() if not path.exists()]
            if missing:
                raise CommandError(f"the command succeeded but did not create its declared output(s) "
                                   f"{', '.join(missing)}: {line}\n  in {workdir}; check the output templates "
                                   f"and the tool's log ({workdir / STDERR_FILE})")
        except BaseException:
            for path in outputs.values():
                _remove(path)
            raise
        return dict(outputs)

    def _execute(self, argv: list[str], line: str, workdir: Path, stdout_path: Path) -> None:
        env = {**os.environ, **self.env}
        with open(stdout_path, "wb") as out, open(workdir / STDERR_FILE, "wb") as err:
            try:
                process = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=err)
            except OSError as exc:
                raise CommandError(f"cannot start {argv[0]!r} on host {socket.gethostname()}: {exc.strerror} "
                                   f"(PATH={env.get('PATH', '')})") from None
            try:
                returncode = process.wait(self.timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(process)
                raise CommandTimeout(line, None, _tail(workdir / STDERR_FILE), workdir,
                                     f"command timed out after {self.timeout}s and was killed") from None
            finally:
                if process.poll() is None:
                    _kill_tree(process)
        if returncode != 0:
            reason = (f"command was killed by signal {_signal_name(-returncode)}" if returncode < 0
                      else f"command exited with status {returncode}")
            raise CommandFailed(line, returncode, _tail(workdir / STDERR_FILE), workdir, reason)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill the tool and every process it started, then reap it."""
    kill_process_tree(process.pid)
    process.wait()


def _remove(path: Path) -> None:
    """Remove an output left by an earlier run, so a tool that now fails to write it
    cannot pass the existence check with a stale file; and a failed tool's partial
    output, which may be what fills the disk."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class CommandNode(Node):
    """A node running a command-line tool.

    ``command`` is the argument list, each item a ``str.format`` template over the
    inputs and outputs (``["gzip", "-{level}", "-c", "{in_file}"]``); a bare
    ``"{name}"`` item whose value is a list becomes one argument per item, and None
    leaves it out. The first item, the executable, is literal; it must exist when the
    workflow is validated. Values are never seen by a shell: with ``shell=True`` the
    command is one ``/bin/sh`` command line instead, with every value quoted.

    ``inputs`` declares each input as a type (mandatory) or ``(type, default)``; paths
    given for a ``File`` (or ``list[File]``) input become absolute Files, hashed by
    content. ``outputs`` maps output names to file-name templates over the inputs,
    resolved in the node directory (``{"out_file": "{in_file.name}.gz"}``); each must
    exist after the run and is returned as a File. ``stdout`` names the output whose
    file receives the tool's stdout (otherwise ``stdout.txt``); stderr goes to
    ``stderr.txt`` and the command line to ``command.txt``. ``env`` is added to the
    environment; ``timeout`` (seconds) kills the tool and fails the node, on every
    backend. Other keywords (``version``, ``plugin_args``, ``resources``, ...) are
    those of :class:`~flowmill.Node`; ``name`` defaults to the executable's name.
    """

    task: CommandTask

    def __init__(self, command: Sequence[str] | str, name: str | None = None, *,
                 inputs: Mapping[str, InputSpec] | None = None, outputs: Mapping[str, str] | None = None,
                 stdout: str | None = None, env: Mapping[str, str] | None = None, timeout: float | None = None,
                 shell: bool = False, **node_options: Any) -> None:
        task = CommandTask(command, inputs=inputs, outputs=outputs, stdout=stdout, env=env, timeout=timeout,
                           shell=shell)
        if name is None and task.executable is not None:
            name = os.path.basename(task.executable)
        if name is None:
            raise ValidationError("a shell command node needs a name: CommandNode('...', name='...', shell=True)")
        super().__init__(task, name=name, **node_options)
