"""The ``odm`` command (also ``python -m odm``): one subcommand per module of this package.

Each command module has ``add_parser(subparsers)``, which registers its subcommands with
``set_defaults(run=...)``, an async function ``run(args, out, err)`` of the parsed
arguments that prints its results on ``out`` and its progress and ``error: ...`` lines on
``err``, and returns the exit status (see :mod:`odm.cli._common` for the codes).
``docs/cli.md`` documents every command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from . import load, migrate, schema
from ._common import INTERRUPTED, USAGE, Stop, connection_settings

__all__ = ["main", "run"]

#: The command modules, in the order ``odm --help`` lists them.
COMMANDS = (load, schema, migrate)


def parser() -> argparse.ArgumentParser:
    """The ``odm`` argument parser, with every command's subcommands."""
    root = argparse.ArgumentParser(
        prog="odm",
        description="odm: load documents through their classes, check and migrate the indices behind them.",
        epilog="exit status: 0 ok, 1 drift found or documents not written, 2 wrong command line, "
        "3 failed or Elasticsearch unusable, 4 migration lock held by another process, 130 interrupted (Ctrl-C)",
    )
    commands = root.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(commands)
    return root


async def run(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line ``argv`` (without the program name); returns the exit status.

    Args:
        out: where results go (tables, plans, summaries); ``sys.stdout`` by default.
        err: where progress bars, phase lines and ``error: ...`` lines go; ``sys.stderr`` by default.
    """
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit:  # argparse printed the usage error (or --help)
        return USAGE if exit.code else 0
    if hasattr(args, "api_key_file"):  # a command that connects: its settings first, as one line if unusable
        try:
            args.settings = connection_settings(args)
        except Stop as error:
            print(f"error: {error}", file=err or sys.stderr)
            return error.status
    status: int = await args.run(args, out or sys.stdout, err or sys.stderr)
    return status


def main() -> None:
    """Entry point of the ``odm`` console script and of ``python -m odm``; Ctrl-C exits 130, without a traceback.

    The working directory goes first on ``sys.path``, as uvicorn and ``python -m`` do: the
    console script's own directory is there instead, so ``odm load shop:Product`` run in
    the project's directory could not import ``shop``.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        status = asyncio.run(run(sys.argv[1:]))
    except KeyboardInterrupt:
        print("odm: interrupted", file=sys.stderr)
        status = INTERRUPTED
    raise SystemExit(status)
