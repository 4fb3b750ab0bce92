"""``python -m odm load``: bulk-load a JSON-lines file through a document class, with progress.

Each line is validated as the document class (an invalid line is reported with its
number and not sent), then written with :func:`odm.bulk`; the exit status is 0 only
when every line was written.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from elasticsearch import AsyncElasticsearch
from pydantic import ValidationError

from ._document_options import options_of
from .bulk import CreateAction, IndexAction
from .document import AsyncDocument
from .errors import DocumentValidationError

__all__ = ["main", "run"]


def _document_class(spec: str) -> type[AsyncDocument]:
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise SystemExit(f"error: {spec!r} is not MODULE:CLASS, e.g. myapp.models:Post")
    found = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(found, type) and issubclass(found, AsyncDocument)):
        raise SystemExit(f"error: {spec} is not an odm.AsyncDocument subclass")
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m odm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="bulk-load a JSON-lines file through a document class")
    load.add_argument("document", help="the document class, as MODULE:CLASS (e.g. myapp.models:Post)")
    load.add_argument("file", type=Path, help="one JSON document per line")
    load.add_argument("--url", default=os.environ.get("ODM_ES_URL", "http://127.0.0.1:9200"))
    load.add_argument("--index", help="write here instead of the class's Index.name")
    load.add_argument("--id-field", help="use this field of each line as the document id")
    load.add_argument("--create", action="store_true", help="only create: an existing id is a failure")
    load.add_argument("--init", action="store_true", help="create or update the index first")
    load.add_argument("--chunk-size", type=int, default=500)
    return parser


class _Lines:
    """Documents from the file, lazily; invalid lines are kept aside with their numbers."""

    def __init__(self, cls: type[AsyncDocument], path: Path, id_field: str | None, create: bool) -> None:
        self.cls, self.path, self.id_field, self.create = cls, path, id_field, create
        self.invalid: list[tuple[int, ValidationError]] = []
        self.line_of: list[int] = []  # the line number of each action handed to bulk

    def __iter__(self) -> Iterator[IndexAction[Any] | CreateAction[Any]]:
        with self.path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    document = self.cls.model_validate_json(line)
                except ValidationError as error:
                    self.invalid.append((number, error))
                    continue
                if self.id_field is not None:
                    document.meta.id = str(getattr(document, self.id_field))
                self.line_of.append(number)
                yield CreateAction(document) if self.create else IndexAction(document)


def _progress_bar(path: Path, out: TextIO) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A tqdm bar when tqdm is installed, else nothing: the summary is printed anyway."""
    try:
        from tqdm import tqdm
    except ImportError:
        return (lambda result: None), (lambda: None)
    bar = tqdm(desc=path.name, unit="doc", file=out)

    def update(result: Any) -> None:
        bar.update(result.total - bar.n)

    return update, bar.close


async def run(argv: Sequence[str], out: TextIO = sys.stderr) -> int:
    """Run the command line ``argv`` (without the program name); returns the exit status."""
    args = _parser().parse_args(argv)
    cls = _document_class(args.document)
    client = AsyncElasticsearch(hosts=[args.url], request_timeout=60)
    try:
        if args.init:
            await cls.init(index=args.index, using=client)
        lines = _Lines(cls, args.file, args.id_field, args.create)
        update, close = _progress_bar(args.file, out)
        options: dict[str, Any] = {"chunk_size": args.chunk_size, "refresh": True, "progress": update}
        if args.index:
            options["index"] = args.index
        try:
            result = await cls.bulk(lines, using=client, **options)
        finally:
            close()
    finally:
        await client.close()
    print(f"{args.file}: {result}, {len(lines.invalid)} invalid lines", file=out)
    index = args.index or options_of(cls).name
    problems = [(number, str(DocumentValidationError(index, None, error))) for number, error in lines.invalid]
    problems += [(lines.line_of[failure.position], str(failure.error)) for failure in result.failed]
    for number, problem in sorted(problems)[:10]:
        print(f"  line {number}: {problem}", file=out)
    return 0 if result.ok and not lines.invalid else 1


def main() -> None:
    """Entry point of ``python -m odm``."""
    raise SystemExit(asyncio.run(run(sys.argv[1:])))
