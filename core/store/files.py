"""File marks an input or output as a path whose *content* belongs to the cache key."""

from __future__ import annotations

from pathlib import PosixPath


class File(PosixPath):
    """A path whose content (or size and mtime, with ``hash_method='timestamp'``) is
    hashed into the cache key of every node that takes it as input.

    It is a real :class:`pathlib.Path`, so ``File("a.nii").name`` and ``open(File(...))``
    work as usual; a plain ``str`` or ``Path`` input is hashed by its text only.
    """
