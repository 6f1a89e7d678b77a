"""``python -m flowmill``: the ``flowmill`` command."""

from .cli import main

main()
