"""``python -m odm``: the command line (see :mod:`odm.cli`)."""

from .cli import main

main()
