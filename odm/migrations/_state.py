"""Where a migration keeps its state: a document in Elasticsearch, never on local disk.

The state index (``odm-migrations`` unless named otherwise) holds, per alias, a state
document (``_id`` = the alias: phase, indices, marks, checkpoint, counts, rejected ids)
beside the lease document of the alias's lock (:mod:`odm.schema._lock`, which also owns
the index and the guarded reads and writes both use). Every write of the state is guarded
by the ``if_seq_no``/``if_primary_term`` of the last read or write: a process that lost
the lock gets a conflict.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from elasticsearch import AsyncElasticsearch, ConflictError

from .._core.names import check_write_index
from ..errors import MigrationLockedError
from ..schema._lock import STATE_INDEX, ensure_state_index, read_document, write_guarded

__all__ = ["INVALID_IDS_KEPT", "STATE_INDEX", "Key", "MigrationState", "Rejected", "StateStore"]

#: The most rejected (or dropped) ids a state document keeps; their counts are always exact.
INVALID_IDS_KEPT = 10_000

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
        await ensure_state_index(self.client, self.index)

    async def read(self) -> MigrationState | None:
        """The alias's state, or ``None`` if it never migrated (the state index may not exist: nothing is created)."""
        answer = await read_document(self.client, self.index, self.alias)
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
            answer = await write_guarded(self.client, self.index, self.alias, state.to_source(), self._tokens)
        except ConflictError as error:
            raise MigrationLockedError(
                self.alias, "another process", 0, "the migration state was changed by another process; stopped"
            ) from error
        self._tokens = (answer["_seq_no"], answer["_primary_term"])


