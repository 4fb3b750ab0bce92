"""Where a migration keeps its state and its lock: documents in Elasticsearch, never on local disk.

One index (``odm-migrations`` unless named otherwise, hidden, ``dynamic: false``) holds,
per alias, a state document (``_id`` = the alias: phase, indices, marks, checkpoint,
counts, rejected ids) and a lease document (``_id`` = ``lock:<alias>``). Every write of
either is guarded by the ``if_seq_no``/``if_primary_term`` of the last read or write, so
two processes can never both believe they own a migration: the loser gets a conflict.

The lease is renewed in the background; a lease not renewed by its ``expires_at`` (a
process killed with SIGKILL) can be taken over, and ``force`` takes over a live one when
the user says its owner is dead. Expiry is judged by each host's clock: keep the clocks
of the hosts that migrate in sync (NTP), and the lease well above their drift.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError, TransportError
from pydantic_core import from_json, to_json

from .._core.names import check_write_index
from .._core.retry import Attempts
from .._sending import delete_document, index_document, send
from ..errors import MigrationLockedError

__all__ = ["INVALID_IDS_KEPT", "STATE_INDEX", "Key", "Lease", "MigrationState", "Rejected", "StateStore", "owner_id"]

#: The default name of the index holding migration states and locks.
STATE_INDEX = "odm-migrations"

#: The most rejected (or dropped) ids a state document keeps; their counts are always exact.
INVALID_IDS_KEPT = 10_000

_STATE_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "kind": {"type": "keyword"},
        "alias": {"type": "keyword"},
        "phase": {"type": "keyword"},
        "from_index": {"type": "keyword"},
        "to_index": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "started": {"type": "date"},
        "updated": {"type": "date"},
        "expires_at": {"type": "double"},
    },
}


def owner_id() -> str:
    """This process, as a lock owner: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


#: A stored document's identity: its id and routing (two routings may hold the same id).
Key = tuple[str, str | None]


@dataclass(frozen=True)
class Rejected:
    """A document a migration could not write: its id, routing, and why (a validation
    error, the transform's exception, or the new index's refusal)."""

    id: str
    reason: str
    routing: str | None = None


@dataclass
class MigrationState:
    """The state document of one alias: what its last migration (or rollback) did and where it is.

    ``phase`` is one of ``created``, ``copying``, ``catching_up``, ``swapping``, ``done``,
    ``failed``, ``rolling_back``, ``rolled_back``.
    """

    alias: str
    phase: str
    from_index: str | None
    to_index: str | None
    document: str
    owner: str
    transform: str | None = None
    accept_invalid: bool = False
    #: The copy runs on the server (``_reindex``), then a validation pass reads the target.
    server_side: bool = False
    #: This migration's id, recorded in its target's ``_meta.odm.migration``: a resume writes
    #: only into an index that carries it (a state without one gets a new id: nothing matches).
    migration: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    #: The local checkpoint of each primary shard of ``from_index`` when the copy started.
    marks: dict[str, int] = field(default_factory=dict)
    #: max_seq_no per primary shard of ``to_index`` just before the swap (for rollback).
    swap_marks: dict[str, int] = field(default_factory=dict)
    #: {"pit": id, "after": sort values of the last page written}; server-side: {"task": the _reindex task}
    checkpoint: dict[str, Any] | None = None
    total: int = 0
    #: Documents written to ``to_index`` in the copy phase (continued from the checkpoint on resume).
    copied: int = 0
    #: Documents written again in the catch-up (changed during the copy).
    caught_up: int = 0
    invalid_count: int = 0
    dropped_count: int = 0
    #: {"id", "routing", "reason"} of each rejected document (up to INVALID_IDS_KEPT).
    invalid: list[dict[str, Any]] = field(default_factory=list)
    #: {"id", "routing"} of each document the transform dropped (up to INVALID_IDS_KEPT).
    dropped: list[dict[str, Any]] = field(default_factory=list)
    #: More ids were rejected or dropped than :data:`INVALID_IDS_KEPT`: the lists are partial.
    ids_truncated: bool = False
    #: The new index's replicas and refresh interval, set back after the copy (None: the default).
    wanted_settings: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_source(self) -> dict[str, Any]:
        return {"kind": "state", **asdict(self)}

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> MigrationState:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in source.items() if key in known})

    def record_rejects(self, invalid: dict[Key, str], dropped: set[Key]) -> None:
        """Keep the counts, and the ids up to :data:`INVALID_IDS_KEPT`."""
        self.invalid_count, self.dropped_count = len(invalid), len(dropped)
        kept = sorted(invalid.items(), key=_by_id)[:INVALID_IDS_KEPT]
        self.invalid = [{"id": id, "routing": routing, "reason": reason} for (id, routing), reason in kept]
        self.dropped = [{"id": id, "routing": routing} for id, routing in sorted(dropped, key=_by_id)[:INVALID_IDS_KEPT]]
        self.ids_truncated = len(invalid) > INVALID_IDS_KEPT or len(dropped) > INVALID_IDS_KEPT

    def rejects(self) -> tuple[dict[Key, str], set[Key]]:
        """The rejected and dropped documents kept in the state (all of them unless ``ids_truncated``)."""
        invalid = {(entry["id"], entry.get("routing")): entry["reason"] for entry in self.invalid}
        return invalid, {(entry["id"], entry.get("routing")) for entry in self.dropped}

    def rejected(self) -> tuple[Rejected, ...]:
        """The rejected documents kept in the state, as the result reports them."""
        return tuple(Rejected(entry["id"], entry["reason"], entry.get("routing")) for entry in self.invalid)


async def _get(client: AsyncElasticsearch, index: str, doc_id: str) -> Any:
    """``GET`` a document of the state index under odm's retry policy; ``None`` when there is none."""
    try:
        return await send(client, lambda quiet: quiet.get(index=index, id=doc_id))
    except NotFoundError:
        return None


async def _put(
    client: AsyncElasticsearch, index: str, doc_id: str, document: dict[str, Any], tokens: tuple[int, int] | None
) -> Any:
    """Write ``document`` (a create without ``tokens``, else guarded by them) through odm's send loop.

    A POST, re-sent only by odm, under the connection's policy. A conflict met after a
    re-send of an attempt that got no answer may be the write meeting its own first
    attempt: the stored document is read back, and it is this write's own when it holds
    exactly what was sent (each write carries a fresh ``write`` nonce), else the conflict
    is real. Never reported as another process's write when it was this one's.

    Returns:
        An answer with the stored ``_seq_no`` and ``_primary_term``.

    Raises:
        elasticsearch.ConflictError: another process wrote the document.
    """
    document = {**document, "write": uuid.uuid4().hex}
    body = to_json(document)
    params = {"if_seq_no": tokens[0], "if_primary_term": tokens[1]} if tokens is not None else {}
    tally = Attempts()
    try:
        return await send(
            client, lambda quiet: index_document(quiet, index, doc_id, body, params, create=tokens is None), None, tally
        )
    except ConflictError:
        if not tally.resent_after_lost_answer:
            raise
        stored = await _get(client, index, doc_id)
        if stored is None or stored["_source"] != from_json(body):
            raise
        return stored


def _by_id(item: Any) -> Any:
    key = item[0] if isinstance(item[0], tuple) else item
    return (key[0], key[1] or "")


class StateStore:
    """Reads and writes the state document of one alias, guarded by its sequence number."""

    def __init__(self, client: AsyncElasticsearch, index: str, alias: str) -> None:
        self.client, self.index, self.alias = client, check_write_index(index), alias
        self._tokens: tuple[int, int] | None = None

    async def ensure_index(self) -> None:
        """Create the state index (one shard, hidden, ``dynamic: false``) unless it exists."""
        if await self.client.indices.exists(index=self.index):
            return
        settings = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "hidden": True}
        try:
            await self.client.indices.create(index=self.index, settings=settings, mappings=_STATE_MAPPING)
        except BadRequestError as error:
            if error.error != "resource_already_exists_exception":  # another process created it just now
                raise

    async def read(self) -> MigrationState | None:
        """The alias's state, or ``None`` if it never migrated (the state index may not exist: nothing is created)."""
        answer = await _get(self.client, self.index, self.alias)
        if answer is None:
            self._tokens = None
            return None
        self._tokens = (answer["_seq_no"], answer["_primary_term"])
        return MigrationState.from_source(answer["_source"])

    async def write(self, state: MigrationState) -> None:
        """Save ``state`` if nobody wrote it since this store last read or wrote it.

        Raises:
            MigrationLockedError: another process wrote the state meanwhile (it took the lock over).
        """
        state.updated = _now()
        try:
            answer = await _put(self.client, self.index, self.alias, state.to_source(), self._tokens)
        except ConflictError as error:
            raise MigrationLockedError(
                self.alias, "another process", 0, "the migration state was changed by another process; stopped"
            ) from error
        self._tokens = (answer["_seq_no"], answer["_primary_term"])


class Lease:
    """The migration lock of one alias: a lease document renewed in the background.

    Use as ``async with Lease(...)`` after :meth:`acquire`; leaving the block stops the
    renewal and deletes the lease (if it is still this process's).
    """

    def __init__(self, client: AsyncElasticsearch, index: str, alias: str, seconds: float, owner: str) -> None:
        self.client, self.index, self.alias, self.seconds, self.owner = client, index, alias, seconds, owner
        self.id = f"lock:{alias}"
        self._tokens: tuple[int, int] | None = None
        self._expires_at = 0.0
        #: (primary term, seq_no) of the write that took the lease: higher for every later owner.
        self.generation: tuple[int, int] | None = None
        self._lost: str | None = None
        self._renewal: asyncio.Task[None] | None = None

    def _document(self) -> dict[str, Any]:
        return {"kind": "lock", "alias": self.alias, "owner": self.owner, "expires_at": time.time() + self.seconds}

    def _held(self, answer: Any, document: dict[str, Any], taken: bool = False) -> None:
        self._tokens = (answer["_seq_no"], answer["_primary_term"])
        if taken:
            self.generation = (int(answer["_primary_term"]), int(answer["_seq_no"]))
        self._expires_at = document["expires_at"]

    async def acquire(self, wait: float = 0, force: bool = False) -> str | None:
        """Take the lock; an expired lease (or any, with ``force``) is taken over.

        Args:
            wait: seconds to wait for a live lease to be released or to expire.
            force: take over a live lease at once (its owner is known to be dead).

        Returns:
            The owner whose lease was taken over, if any.

        Raises:
            MigrationLockedError: another process holds a live lease, after ``wait``.
        """
        deadline = time.monotonic() + wait
        while True:
            document = self._document()
            try:
                answer = await _put(self.client, self.index, self.id, document, None)
                self._held(answer, document, taken=True)
                return None
            except ConflictError:
                pass
            held = await _get(self.client, self.index, self.id)
            if held is None:  # released between the two calls: try again
                continue
            source = held["_source"]
            if force or float(source.get("expires_at", 0)) < time.time():
                document = self._document()
                try:
                    answer = await _put(self.client, self.index, self.id, document, (held["_seq_no"], held["_primary_term"]))
                except ConflictError:  # somebody renewed or took it first
                    continue
                self._held(answer, document, taken=True)
                return str(source.get("owner"))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MigrationLockedError(self.alias, str(source.get("owner")), float(source.get("expires_at", 0)))
            await asyncio.sleep(min(remaining, 0.5))

    async def renew(self) -> None:
        """Push ``expires_at`` forward; marks the lease lost if another process took it."""
        if self._tokens is None or self._lost:
            return
        document = self._document()
        try:
            answer = await _put(self.client, self.index, self.id, document, self._tokens)
        except (ConflictError, NotFoundError):
            self._lost = "another process took the lock over"
            return
        self._held(answer, document)

    def check(self) -> None:
        """Raise unless this process still holds a live lease, by this host's clock: an early stop,
        not the fence (the writes themselves are fenced by Elasticsearch, :mod:`odm.migrations._fence`).

        Raises:
            MigrationLockedError: the lease was taken over, or could not be renewed in time.
        """
        if self._lost is None and time.time() >= self._expires_at:
            self._lost = "the lease expired before it could be renewed"
        if self._lost is not None:
            raise MigrationLockedError(self.alias, self.owner, self._expires_at, f"lost the migration lock: {self._lost}")

    async def held(self) -> bool:
        """Whether the lease document still names this owner (read from Elasticsearch, no clock involved)."""
        answer = await _get(self.client, self.index, self.id)
        return answer is not None and bool(answer["_source"].get("owner") == self.owner)

    async def _renew_forever(self) -> None:
        while self._lost is None:
            await asyncio.sleep(self.seconds / 3)
            with contextlib.suppress(Exception):  # unreachable for a moment: check() tells once it expires
                await self.renew()

    async def __aenter__(self) -> Lease:
        self._renewal = asyncio.create_task(self._renew_forever())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            # wait() does not raise the renewal's own CancelledError, but does raise this task's:
            # a Ctrl-C arriving here is not swallowed (suppressing CancelledError would swallow both)
            await asyncio.wait([self._renewal])
        with contextlib.suppress(ApiError, TransportError):  # unreleased, the lease expires on its own
            await self.release()

    async def release(self) -> None:
        """Delete the lease if it is still this process's."""
        if self._tokens is None or self._lost:
            return
        guard = {"if_seq_no": self._tokens[0], "if_primary_term": self._tokens[1]}
        with contextlib.suppress(ConflictError, NotFoundError):  # taken over, or deleted by its own lost attempt
            await send(self.client, lambda quiet: delete_document(quiet, self.index, self.id, guard))
        self._tokens = None
