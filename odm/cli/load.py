"""``odm load``: bulk-load a JSON-lines file through a document class, with progress.

Each line is validated as the document class (an invalid line is reported with its
number and the id it would have had, and not sent), then written with :func:`odm.bulk`.
Failures are reported one line per kind, not one per document.

Exit status: 0 every line was written; 1 some lines were invalid or failed; 2 the command
line is wrong (an unknown class, a missing file); 3 Elasticsearch cannot be used as asked
(unreachable, the index missing without ``--init``, a mapping conflict).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from elasticsearch import ApiError, AsyncElasticsearch, ConnectionError, TransportError
from pydantic import ValidationError
from pydantic_core import from_json

from .._core.document_options import options_of
from .._core.id_field import id_text
from ..bulk import CreateAction, IndexAction
from ..document import AsyncDocument
from ..errors import DocumentValidationError, OdmError

from ._common import FAILED as UNUSABLE
from ._common import (
    INCOMPLETE,
    OK,
    USAGE,
    Stop,
    add_connection_options,
    client_from,
    document_class,
    progress_bar,
    unreachable,
    without_secrets,
)

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Bulk-load a JSON-lines file (one JSON document per line) through an odm document class.
Each line is validated by the class before it is sent; invalid lines are reported with
their line number and not sent.

exit status: 0 every line was written, 1 some lines were invalid or failed,
2 wrong command line (unknown class, missing file), 3 Elasticsearch cannot be used
(unreachable, index missing without --init, mapping conflict)."""

_SHOWN = 10  # problem lines printed per kind of problem


def add_parser(commands: Any) -> None:
    """Add ``load`` to the ``odm`` command's subcommands."""
    load = commands.add_parser(
        "load",
        help="bulk-load a JSON-lines file through a document class",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("document", help="the document class, as MODULE:CLASS (e.g. myapp.models:Post)")
    load.add_argument("file", type=Path, help="the JSON-lines file: one JSON document per line")
    add_connection_options(load)
    load.add_argument("--index", help="write to this index instead of the class's Index.name")
    load.add_argument("--id-field", help="use this field of each line as the document id")
    load.add_argument("--create", action="store_true", help="only create: a line whose id exists with other content fails")
    load.add_argument(
        "--init", action="store_true", help="create the index from the class's mapping, or apply compatible changes"
    )
    load.add_argument("--chunk-size", type=int, default=500, help="documents per bulk request (default: 500)")
    load.set_defaults(run=run)


class _Lines:
    """Documents from the file, lazily; invalid lines are kept aside with their numbers and ids."""

    def __init__(self, cls: type[AsyncDocument], path: Path, id_field: str | None, create: bool) -> None:
        self.cls, self.path, self.id_field, self.create = cls, path, id_field, create
        own = options_of(cls).id_field
        self.own_id = own is not None and own.name == id_field
        self.invalid: list[tuple[int, str | None, ValidationError | str]] = []
        self.line_of: list[int] = []  # the line number of each action handed to bulk

    def __iter__(self) -> Iterator[IndexAction[Any] | CreateAction[Any]]:
        with self.path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    document = self.cls.model_validate_json(line)
                except ValidationError as error:
                    self.invalid.append((number, self._id_in(line), error))
                    continue
                if self.id_field is not None and not self.own_id:  # a class's own id field: taken when written
                    value = getattr(document, self.id_field)
                    if isinstance(value, bool) or not isinstance(value, (str, int, UUID)):
                        # null would be the id "None" for every such line, each overwriting the last
                        what = "null" if value is None else f"a {type(value).__name__}, not a string or integer"
                        self.invalid.append((number, None, f"--id-field {self.id_field} is {what}: no id to write it with"))
                        continue
                    document.meta.id = id_text(value)
                self.line_of.append(number)
                yield CreateAction(document) if self.create else IndexAction(document)

    def _id_in(self, line: bytes) -> str | None:
        """The id an invalid line would have had, if it can be read from it."""
        if self.id_field is None:
            return None
        try:
            raw = from_json(line)
        except ValueError:
            return None
        info = self.cls.model_fields.get(self.id_field)
        names = [self.id_field, *([info.alias] if info is not None and info.alias else [])]
        value = next((raw[name] for name in names if isinstance(raw, dict) and name in raw), None)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _id_field(cls: type[AsyncDocument], given: str | None) -> str | None:
    """The field of each line that is its id: ``--id-field``, else the class's ``Index.id_field``.

    Raises:
        Stop: ``--id-field`` is not a field, or not the class's own id field.
    """
    own = options_of(cls).id_field
    if given is None:
        return own.name if own is not None else None
    if given not in cls.model_fields or given == "meta":
        raise Stop(USAGE, f"--id-field {given}: {cls.__name__} has no such field")
    if own is not None and given != own.name:
        raise Stop(USAGE, f"--id-field {given}: {cls.__name__}'s id is its field {own.name!r} (Index.id_field)")
    return given


def _progress_bar(path: Path, out: TextIO) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """The shared bar (:func:`._common.progress_bar`), fed with the live bulk result."""
    update, close = progress_bar(path.name, out)
    return (lambda result: update(result.total)), close


async def _prepare(cls: type[AsyncDocument], client: AsyncElasticsearch, args: argparse.Namespace, index: str) -> None:
    """Check that the node answers and the index exists (or create it with ``--init``)."""
    try:
        await client.cluster.health()
        if args.init:
            await cls.init(index=index, using=client)
        elif not await client.indices.exists(index=index):
            raise Stop(
                UNUSABLE,
                f"index {index!r} does not exist; run with --init to create it from {cls.__name__}'s mapping "
                "(writing without it would create a dynamic mapping that guesses the field types)",
            )
    except (ConnectionError, TransportError) as error:
        raise Stop(UNUSABLE, unreachable(args, error)) from error
    except (ApiError, OdmError) as error:
        raise Stop(UNUSABLE, f"cannot use index {index!r}: {without_secrets(args, error)}") from error


def _report(problems: list[tuple[int, str]], out: TextIO) -> None:
    """One line per kind of problem (the same error for many lines is said once), with line numbers."""
    kinds: dict[str, list[int]] = {}
    for number, problem in sorted(problems):
        kinds.setdefault(problem, []).append(number)
    for problem, numbers in kinds.items():
        where = ", ".join(str(n) for n in numbers[:_SHOWN]) + (", ..." if len(numbers) > _SHOWN else "")
        label = f"line {where}" if len(numbers) == 1 else f"{len(numbers)} lines ({where})"
        print(f"  {label}: {problem}", file=out)


async def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``odm load`` with parsed ``args``: the summary on ``out``, the bar and errors on ``err``."""
    try:
        cls = document_class(args.document)
        if not args.file.is_file():
            raise Stop(USAGE, f"{args.file}: no such file")
        index = cls.index_name(args.index)
        id_field = _id_field(cls, args.id_field)
    except (Stop, OdmError) as error:
        print(f"error: {error}", file=err)
        return error.status if isinstance(error, Stop) else USAGE
    client = client_from(args)
    try:
        try:
            await _prepare(cls, client, args, index)
        except Stop as error:
            print(f"error: {error}", file=err)
            return error.status
        lines = _Lines(cls, args.file, id_field, args.create)
        update, close = _progress_bar(args.file, err)
        options: dict[str, Any] = {"chunk_size": args.chunk_size, "refresh": True, "progress": update, "index": index}
        try:
            result = await cls.bulk(lines, using=client, **options)
        finally:
            close()
    finally:
        await client.close()
    print(f"{args.file}: {result}, {len(lines.invalid)} invalid lines", file=out)
    problems = [(number, str(DocumentValidationError(index, id, error))) for number, id, error in lines.invalid]
    problems += [(lines.line_of[failure.position], str(failure.error)) for failure in result.failed]
    problems += [(lines.line_of[skipped.position], "not attempted: the load stopped first") for skipped in result.not_attempted]
    _report(problems, out)
    return OK if result.ok and not lines.invalid else INCOMPLETE

