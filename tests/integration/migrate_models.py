"""Three versions of one versioned document class, and the transforms between them (tests of odm.migrate).

Each test binds them to its own prefix with ``odm.testing.isolation.isolated``.
"""

from __future__ import annotations

import os
import signal
from typing import Annotated, Any

from pydantic import Field

from odm import AsyncDocument, Keyword, Text

SETTINGS = {"number_of_shards": 2, "number_of_replicas": 0}


class PostV1(AsyncDocument):
    name: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "mig-posts"
        versioned = True
        settings = SETTINGS


class PostV2(AsyncDocument):
    """``name`` renamed ``title``; ``views`` may not be negative."""

    title: Annotated[str, Keyword()]
    views: Annotated[int, Field(ge=0)] = 0

    class Index:
        name = "mig-posts"
        versioned = True
        settings = SETTINGS


class PostV3(AsyncDocument):
    """``title`` becomes full text (a type change: another new index)."""

    title: Annotated[str, Text()]
    views: Annotated[int, Field(ge=0)] = 0

    class Index:
        name = "mig-posts"
        versioned = True
        settings = SETTINGS


class Unversioned(AsyncDocument):
    name: Annotated[str, Keyword()]

    class Index:
        name = "mig-plain"
        settings = SETTINGS


class UnversionedV2(AsyncDocument):
    name: Annotated[str, Text()]

    class Index:
        name = "mig-plain"
        settings = SETTINGS


def rename(source: dict[str, Any]) -> dict[str, Any]:
    """V1 -> V2: ``name`` is now ``title``."""
    source["title"] = source.pop("name")
    return source


def rename_back(source: dict[str, Any]) -> dict[str, Any]:
    """V2 -> V1, for a rollback."""
    source["name"] = source.pop("title")
    return source


#: In a worker process: the call of a ``*_pausing`` transform at which the process stops itself with SIGSTOP
#: (inside a page: its lease was checked, its documents not yet written). Unset: they never pause.
STOP_AT_CALL = "ODM_TEST_STOP_AT_CALL"
_calls = 0


def _pause_at_call() -> None:
    global _calls
    _calls += 1
    if os.environ.get(STOP_AT_CALL) == str(_calls):
        os.kill(os.getpid(), signal.SIGSTOP)


def rename_pausing(source: dict[str, Any]) -> dict[str, Any]:
    """:func:`rename`, stopping the process at the call :data:`STOP_AT_CALL` names."""
    _pause_at_call()
    return rename(source)


def rename_back_pausing(source: dict[str, Any]) -> dict[str, Any]:
    """:func:`rename_back`, stopping the process at the call :data:`STOP_AT_CALL` names."""
    _pause_at_call()
    return rename_back(source)


def rename_dropping_drafts(source: dict[str, Any]) -> dict[str, Any] | None:
    """V1 -> V2, leaving out the documents named ``draft...``."""
    return None if source["name"].startswith("draft") else rename(source)


class NoName(AsyncDocument):
    """No ``Index.name``: the commands refuse it as a wrong command line."""

    name: str
