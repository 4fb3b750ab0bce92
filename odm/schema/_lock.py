"""The migration lock of an alias: a lease document in the state index, and the fence of its owner.

One index (``odm-migrations`` unless named otherwise, hidden, ``dynamic: false``) holds,
per alias, a lease document (``_id`` = ``lock:<alias>``) and the state document of its
migration (:mod:`odm.migrations._state`). Every write of either is guarded by the
``if_seq_no``/``if_primary_term`` of the last read or write, so two processes can never
both believe they own the lock: the loser gets a conflict. The migrations (apply, resume,
rollback, prune) and :func:`~odm.schema.adopt` take the same lock (:class:`Locked`), so
they exclude each other.

The lease is renewed in the background; a lease not renewed by its ``expires_at`` (a
process killed with SIGKILL) can be taken over, and ``force`` takes over a live one when
the user says its owner is dead. Expiry is judged by each host's clock: keep the clocks
of the hosts that migrate in sync (NTP), and the lease well above their drift. What an
owner that lost its lease can no longer do is Elasticsearch's to refuse: its fence
(:mod:`odm.schema._fence`) is removed by the takeover.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError, TransportError
from pydantic_core import from_json, to_json

from .._core.names import check_write_index
from .._core.retry import Attempts
from .._sending import delete_document, index_document, send
from ..errors import MigrationLockedError
from ._fence import Fence

__all__ = ["STATE_INDEX", "Lease", "Locked", "ensure_state_index", "owner_id", "read_document", "write_guarded"]

#: The default name of the index holding migration states and locks.
STATE_INDEX = "odm-migrations"

T = TypeVar("T")

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


async def ensure_state_index(client: AsyncElasticsearch, index: str) -> None:
    """Create the state index ``index`` (one shard, hidden, ``dynamic: false``) unless it exists."""
    if await client.indices.exists(index=index):
        return
    settings = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "hidden": True}
    try:
        await client.indices.create(index=index, settings=settings, mappings=_STATE_MAPPING)
    except BadRequestError as error:
        if error.error != "resource_already_exists_exception":  # another process created it just now
            raise


async def read_document(client: AsyncElasticsearch, index: str, doc_id: str) -> Any:
    """``GET`` a document of the state index under odm's retry policy; ``None`` when there is none."""
    try:
        return await send(client, lambda quiet: quiet.get(index=index, id=doc_id))
    except NotFoundError:
        return None


async def write_guarded(
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
        stored = await read_document(client, index, doc_id)
        if stored is None or stored["_source"] != from_json(body):
            raise
        return stored


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
                answer = await write_guarded(self.client, self.index, self.id, document, None)
                self._held(answer, document, taken=True)
                return None
            except ConflictError:
                pass
            held = await read_document(self.client, self.index, self.id)
            if held is None:  # released between the two calls: try again
                continue
            source = held["_source"]
            if force or float(source.get("expires_at", 0)) < time.time():
                document = self._document()
                try:
                    answer = await write_guarded(self.client, self.index, self.id, document, (held["_seq_no"], held["_primary_term"]))
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
            answer = await write_guarded(self.client, self.index, self.id, document, self._tokens)
        except (ConflictError, NotFoundError):
            self._lost = "another process took the lock over"
            return
        self._held(answer, document)

    def check(self) -> None:
        """Raise unless this process still holds a live lease, by this host's clock: an early stop,
        not the fence (the writes themselves are fenced by Elasticsearch, :mod:`odm.schema._fence`).

        Raises:
            MigrationLockedError: the lease was taken over, or could not be renewed in time.
        """
        if self._lost is None and time.time() >= self._expires_at:
            self._lost = "the lease expired before it could be renewed"
        if self._lost is not None:
            raise MigrationLockedError(self.alias, self.owner, self._expires_at, f"lost the migration lock: {self._lost}")

    async def held(self) -> bool:
        """Whether the lease document still names this owner (read from Elasticsearch, no clock involved)."""
        answer = await read_document(self.client, self.index, self.id)
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


class Locked:
    """The migration lock of one alias as one owner holds it: its lease and its fence.

    :meth:`run` takes the lease, removes older owners' fences, runs a step and lets go;
    :attr:`fence` is what the step sends its fenced calls through.
    """

    def __init__(self, client: AsyncElasticsearch, state_index: str, alias: str, lease_seconds: float) -> None:
        self.client, self.alias = client, alias
        self.state_index = check_write_index(state_index)
        self.lease = Lease(client, self.state_index, alias, lease_seconds, owner_id())
        self._fence: Fence | None = None

    @property
    def fence(self) -> Fence:
        """This owner's fence, named for the lease it acquired."""
        if self._fence is None:
            if self.lease.generation is None:
                raise RuntimeError("the migration lock was never acquired: no fence to write through")
            self._fence = Fence(self.client, self.alias, self.lease.generation, self.lease.owner, self.lease.held)
        return self._fence

    async def run(self, step: Callable[[], Awaitable[T]], wait: float = 0, force: bool = False) -> T:
        """Run ``step`` holding the lock (its lease renewed meanwhile); the fences taken are dropped after.

        Raises:
            MigrationLockedError: another process holds a live lease, after ``wait``; nothing was run.
        """
        await ensure_state_index(self.client, self.state_index)
        await self.lease.acquire(wait, force)
        async with self.lease:
            await self.fence.remove_older()  # a takeover: the older owner can change nothing from here on
            try:
                return await step()
            finally:
                await self.fence.drop()
