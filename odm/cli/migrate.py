"""``odm plan|apply|resume|rollback|prune``: migrations of versioned indices, from the command line.

Each command takes document classes (``MODULE:CLASS`` or a module) and works on them in
turn; the exit status is the worst of them. See ``docs/migrations.md`` and ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from elasticsearch import ApiError, ConnectionError, TransportError

from .. import migrate
from ..document import AsyncDocument
from ..errors import MigrationFailedError, MigrationLockedError, OdmError
from ..migrations._run import UNFINISHED
from ..migrations._state import STATE_INDEX, StateStore
from ._common import (
    FAILED,
    LOCK_HELD,
    OK,
    USAGE,
    Stop,
    add_connection_options,
    client_from,
    document_class,
    document_classes,
    progress_bar,
    unreachable,
    without_secrets,
)

__all__ = ["add_parser"]

_EXIT = "exit status: 0 ok, 2 wrong command line, 3 failed (nothing swapped), 4 lock held by another process"
_SHOWN = 20  # rejected documents listed per class


def add_parser(commands: Any) -> None:
    """Add ``plan``, ``apply``, ``resume``, ``rollback`` and ``prune`` to the ``odm`` command."""
    _command(commands, "plan", "show what apply would do, writing nothing", _run_plan)
    apply = _command(commands, "apply", "create the index, apply in-place changes, or migrate to a new version", _run_apply)
    _copy_options(apply)
    apply.add_argument(
        "--accept-invalid", action="store_true",
        help="swap even if documents are rejected by the model (they are listed and not copied)",
    )
    apply.add_argument(
        "--server-side", action="store_true",
        help="copy with Elasticsearch's _reindex (needs its reindex module; no --transform), "
        "then read every copied document through the model",
    )
    resume = _command(commands, "resume", "finish an interrupted migration or rollback", _run_resume)
    _copy_options(resume)
    resume.add_argument(
        "--force", action="store_true", help="take the lock over now: its owner is known to be dead (else wait for its lease)"
    )
    rollback = _command(commands, "rollback", "move the alias back to the index the last migration copied from", _run_rollback)
    _copy_options(rollback, transform_help="maps a document changed since the swap back to the old shape")
    rollback.add_argument(
        "--previous", metavar="MODULE:CLASS", help="the old document class: documents changed since the swap must validate"
    )
    prune = _command(commands, "prune", "delete old versions no alias points to", _run_prune)
    prune.add_argument("--keep", type=int, default=1, help="old versions to keep, newest first (default: 1)")


def _command(commands: Any, name: str, summary: str, run: Callable[..., Awaitable[int]]) -> argparse.ArgumentParser:
    exits = _EXIT if name != "plan" else "exit status: 0 ok, 2 wrong command line, 3 Elasticsearch cannot be used"
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.\n\n{exits}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("documents", nargs="+", metavar="DOCS", help="document classes: MODULE:CLASS, or a module (all its classes)")
    add_connection_options(parser)
    parser.add_argument("--state-index", default=STATE_INDEX, help=f"the index of migration states and locks (default: {STATE_INDEX})")
    if name != "plan":
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="wait this long for another process's lock")
    parser.set_defaults(run=lambda args, out, err: _each(args, out, err, run))
    return parser


def _copy_options(parser: argparse.ArgumentParser, transform_help: str = "maps an old _source dict to the new one") -> None:
    parser.add_argument("--transform", metavar="MODULE:FUNCTION", help=f"{transform_help} (None drops the document)")
    parser.add_argument("--page-size", type=_positive, default=1000, help="documents per page read (default: 1000)")
    parser.add_argument("--concurrency", type=_positive, default=2, help="bulk requests in flight (default: 2)")


def _positive(text: str) -> int:
    """An argparse type: an int of 1 or more (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an int: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _function(spec: str | None) -> Callable[..., Any] | None:
    if spec is None:
        return None
    module_name, _, name = spec.partition(":")
    if not name:
        raise Stop(USAGE, f"{spec!r} is not MODULE:FUNCTION")
    try:
        found = getattr(importlib.import_module(module_name), name, None)
    except ImportError as error:
        raise Stop(USAGE, f"cannot import {module_name!r}: {error}") from error
    if not callable(found):
        raise Stop(USAGE, f"{spec} is not a function")
    return found  # type: ignore[no-any-return]


async def _each(args: argparse.Namespace, out: TextIO, err: TextIO, run: Callable[..., Awaitable[int]]) -> int:
    """Run a command for every class named (results on ``out``, progress and errors on ``err``);
    its status is the worst one's."""
    try:
        classes = document_classes(args.documents)
    except Stop as error:
        print(f"error: {error}", file=err)
        return error.status
    client = client_from(args, request_timeout=120)
    status = OK
    try:
        for cls in classes:
            try:
                status = max(status, await run(cls, args, client, out, err))
            except Stop as error:
                print(f"error: {error}", file=err)
                return error.status
            except MigrationLockedError as error:
                print(f"error: {error}", file=err)
                status = max(status, LOCK_HELD)
            except MigrationFailedError as error:
                print(f"error: {error}", file=err)
                _rejected(error.result, err)
                status = max(status, FAILED)
            except (ConnectionError, TransportError) as error:
                print(f"error: {unreachable(args, error)}", file=err)
                return FAILED
            except (ApiError, OdmError) as error:
                print(f"error: {cls.__name__}: {without_secrets(args, error)}", file=err)
                status = max(status, FAILED)
            except asyncio.CancelledError:  # Ctrl-C: say what is left unfinished, then stop
                print(f"error: interrupted: {await _unfinished(cls.index_name(), args.state_index, client)}", file=err)
                raise
    finally:
        await client.close()
    return status


async def _unfinished(alias: str, state_index: str, client: Any) -> str:
    """What an interrupted command left: the phase to resume, and any index left write-blocked."""
    try:
        state = await StateStore(client, state_index, alias).read()
        if state is None or state.phase not in UNFINISHED:
            return f"{alias}: nothing is left unfinished"
        indices = [index for index in (state.from_index, state.to_index) if index]
        settings = await client.indices.get_settings(index=indices, name="index.blocks.write", flat_settings=True)
        flat = {index: body.get("settings", {}) for index, body in settings.items()}  # unblocked: left out
        blocked = [index for index in indices if flat.get(index, {}).get("index.blocks.write") == "true"]
    except Exception as error:  # the node is unreachable, say: the state cannot be told
        return f"{alias}: the state could not be read ({type(error).__name__}); run `odm plan` to see what is unfinished"
    what = "rollback" if state.phase == "rolling_back" else "migration"
    still = f"; {', '.join(blocked)} stays write-blocked until then" if blocked else ""
    return f"the {what} of {alias!r} stopped at phase {state.phase!r}; the lock is released: run `odm resume` to finish it{still}"


def _rejected(result: migrate.MigrationResult, out: TextIO) -> None:
    for rejected in result.invalid[:_SHOWN]:
        print(f"  rejected {rejected.id}: {rejected.reason}", file=out)
    if result.invalid_count > _SHOWN:
        print(f"  ... and {result.invalid_count - _SHOWN} more", file=out)


class _Report:
    """Progress, on the error stream: a bar while copying (tqdm, when installed) and one line per phase."""

    def __init__(self, alias: str, out: TextIO) -> None:
        self.alias, self.out = alias, out
        self.bar: tuple[Callable[[int], None], Callable[[], None]] | None = None
        self.last: migrate.Progress | None = None

    def __call__(self, event: migrate.Progress) -> None:
        if event.phase == "validate" and self.last is not None and self.last.phase == "validate":
            self.last = event  # one line for the whole validation pass
            return
        if event.phase == "copy":
            if self.bar is None:
                self.bar = progress_bar(f"{self.alias} copy", self.out, event.total or None)
            self.bar[0](event.copied)
        else:
            self.close()
            print(f"{self.alias}: {event.phase}{self._counts(event)}", file=self.out)
        self.last = event

    def _counts(self, event: migrate.Progress) -> str:
        if event.phase == "catch_up":
            return f" ({event.caught_up} caught up)"
        if self.last is None or self.last.phase not in ("copy", "validate"):
            return ""
        return f" (copied {event.copied} of {event.total}, {event.invalid} rejected, {event.rate:.0f} documents/s)"

    def close(self) -> None:
        if self.bar is not None:
            self.bar[1]()
            self.bar = None


def _copy_kwargs(args: argparse.Namespace, report: _Report) -> dict[str, Any]:
    return {
        "transform": _function(args.transform),
        "page_size": args.page_size,
        "concurrency": args.concurrency,
        "on_progress": report,
        "wait": args.wait,
        "state_index": args.state_index,
    }


async def _run_plan(cls: type[AsyncDocument], args: argparse.Namespace, client: Any, out: TextIO, err: TextIO) -> int:
    print(await migrate.plan(cls, client, state_index=args.state_index), file=out)
    return OK


async def _run_apply(cls: type[AsyncDocument], args: argparse.Namespace, client: Any, out: TextIO, err: TextIO) -> int:
    if args.server_side and args.transform:
        raise Stop(USAGE, "--server-side copies each _source as it is: it cannot run --transform")
    report = _Report(cls.index_name(), err)
    try:
        result = await migrate.apply(
            cls, client, accept_invalid=args.accept_invalid, server_side=args.server_side, **_copy_kwargs(args, report)
        )
    finally:
        report.close()
    print(result, file=out)
    _rejected(result, out)
    return OK


async def _run_resume(cls: type[AsyncDocument], args: argparse.Namespace, client: Any, out: TextIO, err: TextIO) -> int:
    report = _Report(cls.index_name(), err)
    try:
        result = await migrate.resume(cls, client, force=args.force, **_copy_kwargs(args, report))
    finally:
        report.close()
    print(result, file=out)
    _rejected(result, out)
    return OK


async def _run_rollback(cls: type[AsyncDocument], args: argparse.Namespace, client: Any, out: TextIO, err: TextIO) -> int:
    previous = document_class(args.previous) if args.previous else None
    report = _Report(cls.index_name(), err)
    try:
        result = await migrate.rollback(cls, client, previous=previous, **_copy_kwargs(args, report))
    finally:
        report.close()
    print(result, file=out)
    return OK


async def _run_prune(cls: type[AsyncDocument], args: argparse.Namespace, client: Any, out: TextIO, err: TextIO) -> int:
    if args.keep < 0:
        raise Stop(USAGE, f"--keep must be 0 or more, not {args.keep}")
    print(await migrate.prune(cls, client, keep=args.keep, wait=args.wait, state_index=args.state_index), file=out)
    return OK
