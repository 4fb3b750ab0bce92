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
import os
from collections.abc import Callable
from typing import Any, TextIO

from elasticsearch import AsyncElasticsearch

from .._core.document_options import options_of
from ..document import AsyncDocument

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
    """``--url``, auth and TLS options, each defaulting to an environment variable."""
    env = os.environ.get
    parser.add_argument(
        "--url",
        default=env("ODM_ES_URL", "http://127.0.0.1:9200"),
        help="Elasticsearch URL (default: $ODM_ES_URL, else http://127.0.0.1:9200)",
    )
    parser.add_argument("--api-key", default=env("ODM_ES_API_KEY"), help="API key (default: $ODM_ES_API_KEY)")
    parser.add_argument(
        "--user", default=env("ODM_ES_USER"), help="basic-auth user (default: $ODM_ES_USER); password from $ODM_ES_PASSWORD"
    )
    parser.add_argument("--ca-certs", default=env("ODM_ES_CA_CERTS"), help="CA bundle for TLS (default: $ODM_ES_CA_CERTS)")
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify the node's TLS certificate (never in production)"
    )


def client_from(args: argparse.Namespace, request_timeout: float = 60) -> AsyncElasticsearch:
    """A client built from the connection options; the caller closes it."""
    options: dict[str, Any] = {"hosts": [args.url], "request_timeout": request_timeout, "max_retries": 1}
    if args.api_key:
        options["api_key"] = args.api_key
    if args.user:
        options["basic_auth"] = (args.user, os.environ.get("ODM_ES_PASSWORD", ""))
    if args.ca_certs:
        options["ca_certs"] = args.ca_certs
    if args.insecure:
        options["verify_certs"] = False
    return AsyncElasticsearch(**options)


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
