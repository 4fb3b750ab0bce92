"""``odm status``, ``odm check`` and ``odm adopt``: the live indices of document classes, their drift, adopting.

``status`` shows, per class, the alias, the concrete index behind it, its version,
document count, whether the stored definition hash matches the class, and the drift
outcome. ``check`` lists every change with its reason and fails (exit 1) when a class
needs a migration or its index is missing; ``--strict`` also fails on changes
``init()`` would apply, for a CI gate. ``adopt`` moves a concrete index named like a
versioned class's alias behind that alias (see docs/schema-drift.md).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from elasticsearch import ApiError, AsyncElasticsearch, ConnectionError, TransportError

from ..document import AsyncDocument
from ..errors import MigrationLockedError, OdmError
from ..schema._adopt import adopt
from ..schema._lock import STATE_INDEX
from ..schema._versioned import Drift, detect_drift, indices_behind
from ._common import (
    DRIFT,
    FAILED,
    LOCK_HELD,
    OK,
    Stop,
    add_connection_options,
    client_from,
    document_classes,
    unreachable,
    without_secrets,
)

__all__ = ["add_parser", "run_adopt", "run_check", "run_status"]

_DOCS_HELP = "document classes: MODULE:CLASS, or a module (every class defined in it with an Index.name)"

_STATUS = """\
Show, for each document class, the alias it is queried by, the concrete index behind
it and its version (posts-v2: 2), the number of documents, whether the definition hash
stored in the index's _meta matches the class (same, differs, none stored), and the
drift: missing (no index), none, in_place (init() applies it) or new_index (a
migration is needed). Only reads are sent.

exit status: 0 shown, 2 wrong command line, 3 Elasticsearch cannot be used."""

_CHECK = """\
Compare each document class with its live index (mapping, settings, analysis, the
definition hash) and print every change with its reason. A CI gate: it fails when a
class needs a new index (a migration) or its index is missing; with --strict also
when init() would still have to apply changes in place. Only reads are sent.

exit status: 0 nothing to do (or only in-place changes, without --strict), 1 drift:
a migration is needed, an index is missing, or (--strict) in-place changes are
pending, 2 wrong command line, 3 Elasticsearch cannot be used."""

_ADOPT = """\
Move a concrete index named like a versioned class's alias behind that alias, as
<name>-v1: the index is write-blocked, cloned (no reindex), the copy's document count
checked, then one atomic alias call deletes the original and points the alias (and
the original's other aliases) at the copy. Writes made during adopt fail with the
write block; none is lost. On a failure before the alias call the block is lifted and
the copy deleted. A class whose name is already an alias is left as it is.

Adopt holds the migration lock of the alias (the one odm apply, resume and rollback
take) while it works: a second adopt of the same index, or a migration, run at the
same time is refused (exit 4) without changing anything, or waits with --wait.

Classes are adopted in the order given; the first failure stops the command.

exit status: 0 adopted or nothing to do, 2 wrong command line, 3 adopt failed or
Elasticsearch cannot be used, 4 another process holds the lock."""


def add_parser(commands: Any) -> None:
    """Add ``status``, ``check`` and ``adopt`` to the ``odm`` command's subcommands."""
    status = _command(commands, "status", "show the alias, index, version, documents and drift of each class", _STATUS)
    status.set_defaults(run=run_status)
    check = _command(commands, "check", "fail when a class's index needs a migration (a CI gate)", _CHECK)
    check.add_argument(
        "--strict", action="store_true", help="also fail when init() would still apply changes in place"
    )
    check.set_defaults(run=run_check)
    adopt_ = _command(commands, "adopt", "move a concrete index behind the alias of its versioned class", _ADOPT)
    adopt_.add_argument(
        "--state-index", default=STATE_INDEX, help=f"the index of migration states and locks (default: {STATE_INDEX})"
    )
    adopt_.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="wait this long for another process's lock")
    adopt_.add_argument(
        "--force", action="store_true", help="take the lock over now: its owner is known to be dead (else wait for its lease)"
    )
    adopt_.set_defaults(run=run_adopt)


def _command(commands: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("documents", nargs="+", metavar="DOCS", help=_DOCS_HELP)
    add_connection_options(parser)
    return parser


def _counted(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _name(document: type[AsyncDocument]) -> str:
    return f"{document.__module__}:{document.__qualname__}"


async def _each(
    args: argparse.Namespace, err: TextIO, work: Callable[[list[type[AsyncDocument]], AsyncElasticsearch], Awaitable[int]]
) -> int:
    """Find the classes, connect, run ``work``; a wrong command line or an unusable node is one ``error:`` line."""
    try:
        documents = document_classes(args.documents)
    except Stop as error:
        print(f"error: {error}", file=err)
        return error.status
    client = client_from(args)
    try:
        return await work(documents, client)
    except (ConnectionError, TransportError) as error:
        print(f"error: {unreachable(args, error)}", file=err)
        return FAILED
    except (ApiError, OdmError) as error:
        print(f"error: {without_secrets(args, error)}", file=err)
        return FAILED
    finally:
        await client.close()


# -- status ------------------------------------------------------------------------------------


async def run_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``odm status`` with parsed ``args``; returns the exit status."""

    async def work(documents: list[type[AsyncDocument]], client: AsyncElasticsearch) -> int:
        rows = [("CLASS", "ALIAS", "INDEX", "VERSION", "DOCS", "HASH", "DRIFT")]
        for document in documents:
            drift = await detect_drift(document, using=client)
            count = "-" if drift.index is None else str((await client.count(index=drift.index))["count"])
            rows.append((
                _name(document),
                drift.alias,
                drift.index or "-",
                "-" if drift.version is None else str(drift.version),
                count,
                _hash_state(drift),
                drift.outcome,
            ))
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
        return OK

    return await _each(args, err, work)


def _hash_state(drift: Drift) -> str:
    if drift.index is None:
        return "-"
    if drift.live_hash is None:
        return "none"
    return "same" if drift.live_hash == drift.wanted_hash else "differs"


# -- check -------------------------------------------------------------------------------------

_VERDICT = {
    "missing": "missing: init() creates it",
    "none": "up to date",
    "in_place": "in_place: init() applies these changes",
    "new_index": "new_index: a migration to a new index is needed",
}


async def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``odm check`` with parsed ``args``; returns the exit status."""
    failing = {"missing", "new_index", *(("in_place",) if args.strict else ())}

    async def work(documents: list[type[AsyncDocument]], client: AsyncElasticsearch) -> int:
        outcomes: Counter[str] = Counter()
        for document in documents:
            drift = await detect_drift(document, using=client)
            outcomes[drift.outcome] += 1
            where = drift.alias if drift.index in (None, drift.alias) else f"{drift.alias} -> {drift.index}"
            print(f"{_name(document)} ({where}): {_VERDICT[drift.outcome]}", file=out)
            for change in sorted(drift.changes, key=lambda change: change.kind != "new_index"):
                print(f"  {change.kind:<9}  {change.path}: {change.reason}", file=out)
        failed = sum(outcomes[outcome] for outcome in failing)
        summary = ", ".join(f"{outcomes[outcome]} {outcome}" for outcome in _VERDICT if outcomes[outcome])
        print(f"check: {_counted(len(documents), 'class', 'classes')} ({summary}): {'drift' if failed else 'ok'}", file=out)
        return DRIFT if failed else OK

    return await _each(args, err, work)


# -- adopt -------------------------------------------------------------------------------------


async def run_adopt(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``odm adopt`` with parsed ``args``; returns the exit status."""

    async def work(documents: list[type[AsyncDocument]], client: AsyncElasticsearch) -> int:
        for document in documents:
            alias = document.index_name()
            before = await indices_behind(alias, using=client)
            if before and before != [alias]:
                print(f"{_name(document)}: {alias} is an alias of {', '.join(before)} already; nothing to do", file=out)
                continue
            try:
                index = await adopt(
                    document, using=client, wait=args.wait, force=args.force, state_index=args.state_index
                )
            except MigrationLockedError as error:
                print(f"error: {without_secrets(args, error)}", file=err)
                return LOCK_HELD
            count = (await client.count(index=alias))["count"]
            print(f"{_name(document)}: {alias} is now an alias of {index} ({_counted(count, 'document')})", file=out)
        return OK

    return await _each(args, err, work)
