"""``python -m ecif.cli``: the same as the ``ecif`` command."""

from ecif.cli import main

main()
