"""What every ``odm`` command shares: exit codes, finding document classes, connecting.

Exit codes (documented in ``docs/cli.md``): 0 ok; 1 drift found (``check``) or some
documents not written (``load``); 2 the command line is wrong; 3 the work failed or
Elasticsearch cannot be used as asked; 4 another process holds the migration lock; 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from elasticsearch import AsyncElasticsearch

from .._core.document_options import options_of
from .._core.settings import OdmSettings
from ..document import AsyncDocument
from ..errors import SettingsError

__all__ = [
    "DRIFT",
    "FAILED",
    "INCOMPLETE",
    "INTERRUPTED",
    "LOCK_HELD",
    "OK",
    "USAGE",
    "Stop",
    "add_connection_options",
    "client_from",
    "connection_settings",
    "unreachable",
    "without_secrets",
    "document_class",
    "document_classes",
    "progress_bar",
]

OK, DRIFT, USAGE, FAILED, LOCK_HELD = 0, 1, 2, 3, 4
INCOMPLETE = DRIFT  # load: some lines were invalid or failed
INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it


class Stop(Exception):
    """A reason to stop, with its exit status; printed as one line ``error: ...``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise Stop(USAGE, f"cannot import {module_name!r}: {error}") from error


def document_class(spec: str) -> type[AsyncDocument]:
    """The class named ``MODULE:CLASS``.

    Raises:
        Stop: (USAGE) the spec is not ``MODULE:CLASS``, or does not name a document class.
    """
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise Stop(USAGE, f"{spec!r} is not MODULE:CLASS, e.g. myapp.models:Post")
    found = getattr(_import(module_name), class_name, None)
    if not (isinstance(found, type) and issubclass(found, AsyncDocument)):
        raise Stop(USAGE, f"{spec} is not an odm.AsyncDocument subclass")
    return found


def document_classes(specs: list[str]) -> list[type[AsyncDocument]]:
    """The classes named by ``MODULE:CLASS`` specs, and every class with an index defined in ``MODULE`` specs.

    Raises:
        Stop: (USAGE) a spec names nothing importable or a class without ``Index.name``, or a
            module defines no document class.
    """
    classes: list[type[AsyncDocument]] = []
    for spec in specs:
        if ":" in spec:
            named = document_class(spec)
            if options_of(named).name is None:
                raise Stop(USAGE, f"{spec} has no Index.name: the commands work on the index a class names")
            classes.append(named)
            continue
        module = _import(spec)
        found = [
            value
            for _, value in inspect.getmembers(module, inspect.isclass)
            if issubclass(value, AsyncDocument)
            and value.__module__ == module.__name__
            and options_of(value).name is not None
        ]
        if not found:
            raise Stop(USAGE, f"module {spec!r} defines no AsyncDocument class with an Index.name")
        classes.extend(found)
    return list(dict.fromkeys(classes))


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--url``, auth and TLS options; what is not given comes from the environment, as for
    ``odm.fastapi`` (:class:`~odm.fastapi.OdmSettings`: the same variables, read by the same code).

    Secrets never come from the command line, which other users of the machine can read
    (``ps``): the password from ``$ODM_ES_PASSWORD``, the API key from ``$ODM_ES_API_KEY`` or
    ``--api-key-file`` (a file, or ``-`` for stdin).
    """
    parser.add_argument(
        "--url", help="Elasticsearch URL (default: $ODM_ES_URL, else http://127.0.0.1:9200)"
    )
    parser.add_argument(
        "--user", help="basic-auth user (default: $ODM_ES_USERNAME); the password from $ODM_ES_PASSWORD only"
    )
    parser.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="read the API key from FILE, or from stdin with '-' (default: the key in $ODM_ES_API_KEY)",
    )
    parser.add_argument("--api-key", nargs="?", action=_RefusedOnCommandLine, help=argparse.SUPPRESS)
    parser.add_argument("--ca-certs", help="CA bundle for TLS (default: $ODM_ES_CA_CERTS)")
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify the node's TLS certificate (never in production)"
    )


class _RefusedOnCommandLine(argparse.Action):
    """``--api-key KEY`` is refused: the command line is visible to every user of the machine."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        # The message never repeats the value.
        parser.error(
            f"{option} is not taken on the command line (other users can read it, with ps): "
            "set ODM_ES_API_KEY, or pass --api-key-file FILE (or - for stdin)"
        )


def connection_settings(args: argparse.Namespace, stdin: TextIO | None = None) -> OdmSettings:
    """The settings of the connection options: the command line over the environment.

    Raises:
        Stop: (USAGE) settings that cannot be used (a malformed URL, ``ODM_ES_TIMEOUT=soon``,
            an unreadable key file, a CA bundle that is not a file); the message holds no secret.
    """
    given: dict[str, Any] = {}
    for option, setting in (("url", "url"), ("user", "username"), ("ca_certs", "ca_certs")):
        if getattr(args, option) is not None:
            given[setting] = getattr(args, option)
    if args.insecure:
        given["verify"] = False
    if args.api_key_file is not None:
        given["api_key"] = _read_key(args.api_key_file, stdin or sys.stdin)
    try:
        settings = OdmSettings.from_env(**given)
    except SettingsError as error:
        raise Stop(USAGE, str(error)) from None
    if settings.ca_certs is not None and not Path(settings.ca_certs).is_file():  # the client would raise, a traceback
        raise Stop(USAGE, f"the CA bundle {settings.ca_certs!r} (--ca-certs, $ODM_ES_CA_CERTS) is not a file")
    return settings


def _read_key(path: str, stdin: TextIO) -> str:
    try:
        key = stdin.readline() if path == "-" else Path(path).read_text()
    except OSError as error:
        raise Stop(USAGE, f"--api-key-file {path}: {error.strerror}") from None
    if not key.strip():
        raise Stop(USAGE, f"--api-key-file {path}: no key in it")
    return key.strip()


def client_from(args: argparse.Namespace, request_timeout: float = 60) -> AsyncElasticsearch:
    """A client of ``args.settings`` (set by :func:`odm.cli.run`); the caller closes it.

    Each request may take ``request_timeout`` seconds, or ``$ODM_ES_TIMEOUT`` if longer.
    """
    settings: OdmSettings = args.settings
    options = settings.client_options()
    options.update(request_timeout=max(request_timeout, settings.timeout), max_retries=1)
    return AsyncElasticsearch(**options)


def unreachable(args: argparse.Namespace, error: BaseException) -> str:
    """The ``error:`` line of a node that cannot be reached: its URL and the client's words, without secrets."""
    settings: OdmSettings = args.settings
    return f"cannot reach Elasticsearch at {settings.display_url}: {settings.redact(str(error))}"


def without_secrets(args: argparse.Namespace, error: BaseException) -> str:
    """``str(error)`` without the connection's password, API key or URL credentials."""
    settings: OdmSettings = args.settings
    return settings.redact(str(error))


def progress_bar(
    description: str, out: TextIO, total: int | None = None
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A tqdm bar (rate, and ETA when ``total`` is known) when tqdm is installed, else nothing.

    Returns:
        ``update(done)`` and ``close()``; both do nothing without tqdm (the commands print
        their summaries anyway).
    """
    try:
        from tqdm import tqdm  # optional: the commands work without it
    except ImportError:
        return (lambda done: None), (lambda: None)
    bar = tqdm(desc=description, unit="doc", file=out, total=total)

    def update(done: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close
