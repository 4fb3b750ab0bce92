"""Versioned indices behind an alias, and drift between a document class and its live index.

A class with ``Index.versioned = True`` is stored in ``<name>-v1``, ``<name>-v2``, ...;
``Index.name`` is one alias, for reads and writes (``is_write_index``), so one atomic
``_aliases`` call moves both. ``init()`` (here: :func:`init_document`) records a hash of
the class's index definition in the mapping's ``_meta``; :func:`detect_drift` compares a
class with its live index change by change (the classification is :mod:`odm.schema._drift`'s);
:func:`~odm.schema._adopt.adopt` moves an existing concrete index behind the alias. See docs/schema-drift.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from .._core.document_options import options_of
from .._core.names import check_index_name
from .._core.retry import RetryPolicy
from .._sending import send
from ..connections import UsingType, get_client
from ..errors import ArgumentError, VersionedIndexError
from ..index import AsyncIndex
from ._drift import (
    ODM_META_KEY,
    Change,
    Outcome,
    classify,
    hash_definition,
    live_hash,
    odm_meta,
    outcome_of,
    unchecked_params,
)

if TYPE_CHECKING:
    from ..document import AsyncDocument

__all__ = [
    "Change",
    "Drift",
    "Outcome",
    "definition_body",
    "definition_hash",
    "detect_drift",
    "indices_behind",
    "version_of",
    "versioned_name",
]


@dataclass(frozen=True)
class Drift:
    """How a document class and its live index differ (:func:`detect_drift`).

    Attributes:
        document: the class.
        alias: the name users query (``Index.name``).
        index: the concrete index behind it now; ``None`` when nothing exists.
        outcome: ``"missing"`` (nothing exists), ``"none"`` (nothing to do), ``"in_place"``
            (``init()`` applies it) or ``"new_index"`` (needs a migration).
        changes: every difference, with its kind and reason.
        wanted_hash: :func:`definition_hash` of the class.
        live_hash: the hash stored in the live mapping's ``_meta``, if any.
    """

    document: type[AsyncDocument]
    alias: str
    index: str | None
    outcome: Outcome
    changes: tuple[Change, ...]
    wanted_hash: str
    live_hash: str | None

    @property
    def version(self) -> int | None:
        """The ``N`` of ``<alias>-vN`` when the index is named so."""
        return None if self.index is None else version_of(self.index, self.alias)


# -- names -------------------------------------------------------------------------------


def versioned_name(alias: str, version: int) -> str:
    """The concrete index of ``version`` behind ``alias``: ``posts``, 2 -> ``posts-v2``.

    Raises:
        ArgumentError: ``version`` is below 1.
    """
    if version < 1:
        raise ArgumentError(f"index versions start at 1, not {version}")
    return f"{alias}-v{version}"


def version_of(index: str, alias: str) -> int | None:
    """The version ``N`` of an index named ``<alias>-vN`` (no leading zeros), else ``None``."""
    digits = index.removeprefix(f"{alias}-v")
    if digits == index or not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):
        return None
    return int(digits)


# -- the definition and its hash -----------------------------------------------------------


def definition_hash(document: type[AsyncDocument]) -> str:
    """The sha256 (hex) of the index definition ``document`` wants: settings (with analysis) and mappings.

    Aliases, the index name and odm's own ``_meta`` are not part of it, so the hash is
    the same in every run, for every index name, and for a test's prefixed copy of the class.
    """
    return hash_definition(document._index.to_dict())


def definition_body(document: type[AsyncDocument], migration: str | None = None) -> dict[str, Any]:
    """The create-index body of a new version of ``document``'s index: settings and mappings.

    The mapping's ``_meta`` records the definition hash, the class, its alias and
    ``migration`` (the id of the migration creating it). Aliases are left out: the caller
    decides when the new index joins them.
    """
    alias = document.index_name()
    body = _definition(document, alias, alias, migration).to_dict()
    body.pop("aliases", None)
    return body


def _definition(
    document: type[AsyncDocument], name: str, alias: str, migration: str | None = None, retry: RetryPolicy | None = None
) -> AsyncIndex[Any]:
    """The class's index definition named ``name``, with odm's ``_meta`` merged into the user's.

    ``alias`` is the name the class queries (the index itself for a class not versioned);
    ``retry`` the policy of its requests (``None``: the connection's).
    """
    definition = document._index.clone(name)
    if retry is not None:
        definition = definition.retry(retry)
    mapping = definition.get_or_create_mapping()
    theirs = dict(mapping._meta.get("_meta", {}))
    if ODM_META_KEY in theirs:
        raise ArgumentError(
            f"{document.__qualname__}: the mapping's _meta key {ODM_META_KEY!r} is odm's (definition hash); rename yours"
        )
    document_name = f"{document.__module__}:{document.__qualname__}"
    mapping.meta("_meta", {**theirs, ODM_META_KEY: odm_meta(definition_hash(document), document_name, alias, migration)})
    return definition


def _client(document: type[AsyncDocument], using: UsingType | None) -> AsyncElasticsearch:
    return get_client(using if using is not None else options_of(document).using)


# -- what is behind a name -------------------------------------------------------------------


@dataclass(frozen=True)
class _Behind:
    indices: tuple[str, ...]  # sorted; () when nothing has the name
    write: str | None  # where a write to the name goes: the write index, or the only index
    is_alias: bool


async def _behind(client: AsyncElasticsearch, name: str, retry: RetryPolicy | None = None) -> _Behind:
    """What ``name`` is; reads, re-sent under ``retry`` (else the connection's policy)."""
    check_index_name(name)
    try:
        answer = (await send(client, lambda quiet: quiet.indices.get_alias(name=name), retry)).body
    except NotFoundError:  # no such alias: a concrete index, or nothing
        exists = bool(await send(client, lambda quiet: quiet.indices.exists(index=name), retry))
        return _Behind((name,) if exists else (), name if exists else None, False)
    flags = {index: entry["aliases"][name].get("is_write_index") for index, entry in answer.items()}
    writers = [index for index, flag in flags.items() if flag is True]
    only = next(iter(flags)) if len(flags) == 1 and next(iter(flags.values())) is not False else None
    return _Behind(tuple(sorted(flags)), writers[0] if writers else only, True)


async def indices_behind(alias: str, using: UsingType = "default") -> list[str]:
    """The concrete indices ``alias`` points to, sorted; ``[alias]`` if it is a concrete index; ``[]`` if nothing.

    Raises:
        InvalidIndexNameError: ``alias`` is not a valid index name (a pattern, say).
    """
    return list((await _behind(get_client(using), alias)).indices)


def _write_index(name: str, behind: _Behind) -> str:
    """The concrete index a versioned class's ``init()`` changes.

    Raises:
        VersionedIndexError: ``name`` is a concrete index, or an alias with no single write index.
    """
    if not behind.is_alias:
        raise VersionedIndexError(
            name,
            "a concrete index has the name the versioned class uses as its alias; nothing was changed. "
            f"adopt() (or `odm adopt MODULE:CLASS`) moves it behind the alias as {versioned_name(name, 1)!r}",
        )
    if behind.write is None:
        raise VersionedIndexError(
            name, f"the alias points to {list(behind.indices)} and none is its write index; nothing was changed"
        )
    return behind.write


# -- init ------------------------------------------------------------------------------------


async def init_document(
    document: type[AsyncDocument], index: str | None = None, using: UsingType | None = None, retry: RetryPolicy | None = None
) -> None:
    """``AsyncDocument.init()``: create the index or apply compatible changes, recording the definition hash.

    A versioned class gets ``<name>-v1`` with the alias ``<name>`` when neither exists;
    otherwise the index behind the alias is brought up to date. Every request is sent
    under ``retry`` (else the connection's policy); a create that meets an existing
    index, maybe its own lost first attempt, goes on to bring that index up to date.

    Raises:
        MappingConflictError: changes that need a new index; nothing was changed.
        VersionedIndexError: a versioned class meets a concrete index of its alias's name.
    """
    name = options_of(document).write_index(document.index_name(index))
    client = _client(document, using)
    if not options_of(document).versioned:
        await _definition(document, name, name, retry=retry).save(using=client)
        return
    behind = await _behind(client, name, retry)
    if not behind.indices:
        if await _create_first_version(document, name, client, retry):
            return
        behind = await _behind(client, name, retry)  # another process (or our own lost first attempt) created it
        if not behind.indices:
            raise VersionedIndexError(
                name,
                f"{versioned_name(name, 1)!r} exists but the alias does not point to it; odm does not take over "
                "an index it did not create. Delete it or add the alias, then run init() again",
            )
    await _definition(document, _write_index(name, behind), name, retry=retry).save(using=client)


async def _create_first_version(
    document: type[AsyncDocument], name: str, client: AsyncElasticsearch, retry: RetryPolicy | None
) -> bool:
    """Create ``<name>-v1`` with the alias ``<name>`` in one request; ``False`` if it exists already
    (or may have been created by this request's own lost first attempt: the caller reads it again)."""
    target = check_index_name(versioned_name(name, 1))
    definition = _definition(document, target, name, retry=retry)
    definition.aliases(**{name: {"is_write_index": True}})
    return await definition._create_or_find(client, definition.to_dict())


# -- drift -----------------------------------------------------------------------------------


async def detect_drift(document: type[AsyncDocument], using: UsingType | None = None) -> Drift:
    """Compare ``document`` with its live index: mapping, settings, analysis and the definition hash.

    Sends only reads. The live index is the one behind ``Index.name`` that ``init()``
    would change (the alias's write index).

    Args:
        using: a connection alias or client; by default the class's ``Index.using``.
    """
    client = _client(document, using)
    alias = document.index_name()
    wanted_hash = definition_hash(document)
    behind = await _behind(client, alias)
    if not behind.indices:
        return Drift(document, alias, None, "missing", (), wanted_hash, None)
    index = behind.write or behind.indices[0]
    changes: list[Change] = []
    if options_of(document).versioned and not behind.is_alias:
        changes.append(Change(alias, "new_index", f"a concrete index, not an alias: adopt() moves it behind "
                              f"the alias as {versioned_name(alias, 1)}"))
    elif options_of(document).versioned and behind.write is None:
        changes.append(Change(alias, "new_index", f"the alias points to {list(behind.indices)} and none is its "
                              "write index: init() refuses it"))
    definition = _definition(document, index, alias)
    wanted = definition.to_dict()
    live = (await definition.get(using=client)).body[index]
    unchecked = unchecked_params(wanted, live)
    defaults = await definition._field_defaults(client, unchecked) if unchecked else None
    closed = "analysis" in wanted.get("settings", {}) and await definition.is_closed(using=client)
    changes += classify(wanted, live, defaults, closed, wanted_hash)
    stored = live_hash(live.get("mappings", {}))
    return Drift(document, alias, index, outcome_of(changes), tuple(changes), wanted_hash, stored)
