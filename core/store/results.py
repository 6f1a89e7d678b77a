"""The result store: one directory per node instance, written atomically and checked
when read.

``result.pkl`` holds a small header pickle (the inputs hash and the digest of each
input, the digest of every output, the checksum and size of the output payload, the
files the outputs name, who ran it, when and why) followed by the output payload, a
second pickle. The file appears by ``os.replace`` of the finished ``.running``
file the job created when it started (see :mod:`.locks`): a killed job leaves no
result, or the old one. Damage from elsewhere (a truncated copy,
a flipped bit, another program's file, a pickle of a class that is gone) is caught by
:func:`load_header` and :func:`read_outputs`, which raise :class:`DamagedResult`;
the engine treats that as a cache miss and recomputes the node.

Verification cost: a cached node is accepted only after :func:`load_header` checks
its header and, for results up to ``VERIFY_LIMIT`` bytes (every result of a node
returning plain values), the payload checksum and that the payload unpickles here.
Those bytes come with the header's read, so a cached rerun stays one open and one
read per node. Bigger results are checked against the size their header gives when
accepted and by checksum when loaded (:func:`read_outputs`), so a rerun never reads
gigabytes it does not use.

A crash record must land somewhere even when the node's directory cannot take it
(read-only, full, over quota): it then goes to the workflow's ``.flowmill/crashes/``,
else to the temp directory, and :func:`find_crash` looks in the same places.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Mapping

import cloudpickle

from .._errors import FlowmillError
from .hashing import digest_bytes
from .locks import Running

RESULT = "result.pkl"
CRASH = "crash.json"
JOB = "job.pkl"
RUN_DIR = ".flowmill"
"""The workflow directory's own subdirectory (fallback crash records, the run journal)."""

log = logging.getLogger("flowmill")
VERIFY_LIMIT = 4 << 20
"""Results up to this many bytes are verified in full before they are reused."""

_REQUIRED = {"hash": str, "digests": dict, "files": dict, "key": dict, "checksum": str, "size": int}
_BEFORE_CHECKSUMS = {"hash", "digests", "token"}
"""What every header had before results carried checksums (flowmill before issue 12)."""


class DamagedResult(FlowmillError):
    """A stored result cannot be trusted: truncated, altered, not flowmill's, or not
    loadable in this environment. The node is recomputed."""

    def __init__(self, node_dir: Path, reason: str, *, outdated: bool = False) -> None:
        self.node_dir = node_dir
        self.reason = reason
        self.outdated = outdated
        """Not damaged but written by an older flowmill: recomputed without a warning."""
        super().__init__(f"damaged result {node_dir / RESULT}: {reason}")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all. An OSError names ``path`` (a full disk's
    ENOSPC from ``write`` names no file, and the user must learn which one)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_result(node_dir: Path, header: Mapping[str, Any], outputs: Mapping[str, Any], running: Running) -> None:
    """Write the result into ``running`` (the file created when the node started to
    run, see :mod:`.locks`; its owner closes it) and move it into place: it appears
    whole or not at all."""
    try:
        payload = pickle.dumps(dict(outputs), protocol=5)
    except Exception:
        payload = cloudpickle.dumps(dict(outputs), protocol=5)
    header = {**header, "checksum": digest_bytes(payload), "size": len(payload)}
    data = pickle.dumps(header, protocol=5) + payload
    try:
        with open(running.fd, "wb", closefd=False) as handle:
            handle.seek(0)
            handle.write(data)
            handle.truncate()
        os.replace(running.path, node_dir / RESULT)
    except OSError as exc:
        raise _naming(exc, node_dir / RESULT) from None


def _unpickle(node_dir: Path, source: bytes | io.BufferedReader, what: str) -> Any:
    """The first pickle of ``source`` (bytes, or a stream left at its end)."""
    try:
        return pickle.loads(source) if isinstance(source, bytes) else pickle.load(source)
    except Exception as exc:  # any damage shows up as some error of the unpickler
        raise DamagedResult(node_dir, f"its {what} does not unpickle ({type(exc).__name__}: {exc})") from None


def _checked_header(node_dir: Path, header: Any) -> dict[str, Any]:
    if not isinstance(header, dict):
        raise DamagedResult(node_dir, f"its header is a {type(header).__name__}, not flowmill's")
    if "checksum" not in header and _BEFORE_CHECKSUMS <= header.keys():
        raise DamagedResult(node_dir, "it was written by an older flowmill", outdated=True)
    for key, kind in _REQUIRED.items():
        if not isinstance(header.get(key), kind):
            raise DamagedResult(node_dir, f"its header lacks a valid {key!r}")
    return header


def _checked_payload(node_dir: Path, header: Mapping[str, Any], payload: bytes) -> dict[str, Any]:
    if digest_bytes(payload) != header["checksum"]:
        raise DamagedResult(node_dir, "its outputs do not match their checksum")
    outputs = _unpickle(node_dir, payload, "outputs")
    if not isinstance(outputs, dict) or outputs.keys() != header["digests"].keys():
        raise DamagedResult(node_dir, "its outputs are not the ones its header lists")
    return outputs


def load_header(node_dir: Path) -> dict[str, Any] | None:
    """The header of the node's result (None: there is none), verified as the module
    docstring says; raises :class:`DamagedResult`."""
    try:
        fd = os.open(os.path.join(node_dir, RESULT), os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DamagedResult(node_dir, f"it cannot be read ({exc})") from None
    try:
        size = os.fstat(fd).st_size
        if size > VERIFY_LIMIT:
            with open(fd, "rb", closefd=False) as stream:
                return _sized_header(node_dir, stream, size)
        data = os.read(fd, size + 1)
    except OSError as exc:
        raise DamagedResult(node_dir, f"it cannot be read ({exc})") from None
    finally:
        os.close(fd)
    header = _checked_header(node_dir, _unpickle(node_dir, data, "header"))
    if header["size"] > len(data):
        raise DamagedResult(node_dir, f"it is {len(data)} bytes long, its header lists {header['size']} of outputs")
    _checked_payload(node_dir, header, data[len(data) - header["size"]:])
    return header


def _sized_header(node_dir: Path, stream: io.BufferedReader, size: int) -> dict[str, Any]:
    """The header of a result too big to verify on every reuse: only its size is."""
    header = _checked_header(node_dir, _unpickle(node_dir, stream, "header"))
    if stream.tell() + header["size"] != size:
        raise DamagedResult(node_dir, f"it holds {size - stream.tell()} bytes of outputs, its header says "
                                      f"{header['size']}")
    return header


def read_header(node_dir: Path) -> dict[str, Any] | None:
    """The result header, or None if there is no complete, undamaged result."""
    try:
        return load_header(node_dir)
    except DamagedResult:
        return None


def read_outputs(node_dir: Path) -> dict[str, Any]:
    """The node's output values, checked against the header's checksum; raises
    FileNotFoundError (no result) or :class:`DamagedResult`."""
    with open(node_dir / RESULT, "rb") as handle:
        try:
            header = _checked_header(node_dir, _unpickle(node_dir, handle, "header"))
            payload = handle.read()
        except OSError as exc:
            raise DamagedResult(node_dir, f"it cannot be read ({exc})") from None
    return _checked_payload(node_dir, header, payload)


def result_token(node_dir: Path) -> str | None:
    """The run token of the node's current result (None: no complete result). A
    backend compares it with ``job.token`` to tell this run's result from an older one."""
    header = read_header(Path(node_dir))
    return None if header is None else header.get("token")


def has_crash(node_dir: Path) -> bool:
    return find_crash(Path(node_dir)) is not None


def crash_places(node_dir: Path) -> list[Path]:
    """Where the node's crash record may be, in the order it is tried: its own
    directory, ``<workflow_dir>/.flowmill/crashes/`` (the nearest ancestor holding a
    ``.flowmill`` directory), the temp directory. Fallback names carry a digest of the
    node directory, so nodes of the same name in different workflows do not collide."""
    return [Path(place) for place in _crash_places(os.fspath(node_dir))]


def _crash_places(node_dir: str) -> list[str]:
    """:func:`crash_places` as strings: every job clears them before it runs, so
    the search stops at the nearest ``.flowmill`` (one ``stat`` for a node directly
    in its workflow's directory) and builds no Path."""
    name = f"{os.path.basename(node_dir)}-{hashlib.blake2b(node_dir.encode(), digest_size=5).hexdigest()}.json"
    places = [os.path.join(node_dir, CRASH)]
    root = os.path.dirname(node_dir)
    while True:
        if os.path.isdir(os.path.join(root, RUN_DIR)):
            places.append(os.path.join(root, RUN_DIR, "crashes", name))
            break
        parent = os.path.dirname(root)
        if parent == root:
            break
        root = parent
    places.append(os.path.join(tempfile.gettempdir(), "flowmill-crashes", name))
    return places


def find_crash(node_dir: Path) -> Path | None:
    return next((path for path in crash_places(node_dir) if path.exists()), None)


def write_crash(node_dir: Path, record: Mapping[str, Any]) -> Path:
    """Write the crash record in the first place of :func:`crash_places` that takes
    it, saying in ``details.unwritable`` why the earlier ones did not, and return its
    path. Never raises for a file system error: a node's failure must not become the
    run's; if no place takes it, the error is logged and the intended path returned."""
    problems: list[str] = []
    places = crash_places(node_dir)
    for path in places:
        content = dict(record)
        if problems:
            content["details"] = {**content.get("details", {}), "unwritable": "; ".join(problems)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(content, indent=2, default=str).encode())
            return path
        except OSError as exc:
            problems.append(str(exc))
    log.error("cannot write the crash record of node %s anywhere: %s", record.get("node"), "; ".join(problems))
    return places[0]


def read_crash(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def clear_crash(node_dir: Path) -> None:
    """Remove the node's crash records from every place; a place that refuses (a
    read-only directory) holds none this run could be confused by, since nothing
    could be written there either."""
    for path in _crash_places(os.fspath(node_dir)):
        try:
            os.unlink(path)
        except OSError:
            pass
