"""The copy of a migration: documents read from one index, through the model, written to another.

Reading: a point in time over the source, pages by ``search_after`` on ``_shard_doc``;
the catch-up reads, one primary shard at a time (``preference=_shards:N``), the
documents whose ``_seq_no`` is above that shard's mark. Every read of a ``_source`` asks
for its vectors (:data:`SOURCE_WITH_VECTORS`): Elasticsearch 9 leaves them out by
default, and a copy without them would lose them. Writing: each ``_source`` goes
through the transform, is validated as the document class the way a hit is (stored
formats accepted, unknown stored fields kept, as ``save()`` keeps them), and is written
with :func:`odm.bulk` under the same id and routing. A document the transform or the
model refuses, or the new index rejects, is collected with its id and reason and not
written; one the transform maps to ``None`` is dropped and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from elasticsearch import AsyncElasticsearch
from pydantic_core import from_json

from .._core.hits import reader_for
from .._core.vectors import with_vectors
from .._core.writes import encode_source
from ..bulk import BulkItemError, DeleteAction, IndexAction, bulk
from ..document import AsyncDocument
from ..errors import HitValidationError, MigrationError
from ..schema._fence import Fence
from ._state import Key

__all__ = [
    "PIT_KEEP_ALIVE",
    "Copier",
    "PageResult",
    "Transform",
    "RawSource",
    "SOURCE_WITH_VECTORS",
    "changed_pages",
    "key_of",
    "keys_of",
    "pit_pages",
    "primary_seq_nos",
]

Transform = Callable[[dict[str, Any]], dict[str, Any] | None]

D = TypeVar("D", bound=AsyncDocument)

_ID_PAGE = 10_000  # ids per page when listing an index's documents

#: How long the point in time a migration reads stays open (renewed by each page).
PIT_KEEP_ALIVE = "5m"

#: The ``_source`` every read of a migration asks for: the whole of it, vectors included.
SOURCE_WITH_VECTORS: Mapping[str, Any] = with_vectors(True)


@dataclass
class PageResult:
    """What became of one page of source documents."""

    copied: set[Key] = field(default_factory=set)
    invalid: dict[Key, str] = field(default_factory=dict)
    dropped: set[Key] = field(default_factory=set)


class RawSource(AsyncDocument):
    """A class that declares no field: every stored field is unknown to it and written back
    as it was (as ``save()`` keeps unknown fields), so a copy through it copies ``_source``
    as it is, by the same bulk path as a copy through a model. A stored field named
    ``meta`` cannot be read (it is odm's): such a document is refused, with its id."""


def key_of(hit: Mapping[str, Any]) -> Key:
    return str(hit["_id"]), hit.get("_routing")


class Copier(Generic[D]):
    """Turns source hits into documents of ``document`` and writes them to ``target``."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        alias: str,
        document: type[D],
        target: str,
        transform: Transform | None = None,
        concurrency: int = 2,
        chunk_size: int = 500,
        fence: Fence | None = None,
    ) -> None:
        self.client, self.alias, self.document, self.target = client, alias, document, target
        #: Writes go through the fence alias (``require_alias``) when there is one, else to ``target``.
        self.fence = fence
        self.write_to = fence.name if fence is not None else target
        self.transform = transform
        self.concurrency, self.chunk_size = concurrency, chunk_size
        self.reader = reader_for(document)

    def prepare(self, hits: Iterable[Mapping[str, Any]]) -> tuple[list[D], PageResult]:
        """Transform and validate ``hits``; the valid ones as documents bound for the target."""
        result = PageResult()
        staged: list[dict[str, Any]] = []
        for hit in hits:
            key = key_of(hit)
            if "_source" not in hit:
                raise MigrationError(
                    self.alias, f"document {key[0]!r} in {hit.get('_index')!r} has no _source: it cannot be copied"
                )
            source: dict[str, Any] | None = hit["_source"]
            if self.transform is not None:
                try:
                    source = self.transform(source)  # type: ignore[arg-type]
                except Exception as error:  # the user's function: its failure is this document's
                    result.invalid[key] = f"the transform raised {type(error).__name__}: {error}"
                    continue
                if source is None:
                    result.dropped.add(key)
                    continue
                if not isinstance(source, dict):
                    result.invalid[key] = f"the transform returned {type(source).__name__}, not a dict (or None)"
                    continue
            staged.append({"_id": key[0], "_index": self.target, "_routing": key[1], "_source": source})
        try:
            documents = self.reader.read_many(staged)
        except HitValidationError:  # find each invalid one; the others go on
            documents = []
            for hit in staged:
                try:
                    documents.append(self.reader.read(hit))
                except HitValidationError as error:
                    result.invalid[key_of(hit)] = str(error)
        return documents, result

    async def copy(self, hits: Iterable[Mapping[str, Any]]) -> PageResult:
        """Write the valid documents of ``hits`` to the target; what was refused is in the result.

        Raises:
            MigrationError: a write failed for a reason that is not the document's (after retries).
        """
        documents, result = self.prepare(hits)
        if not documents:
            return result
        await self._take_fence()
        actions = [IndexAction(doc, index=self.write_to, if_unchanged=False) for doc in documents]
        # revalidate=False: each document was just built by validating its stored source
        # and nothing changed it since; the serializer still type-checks every value.
        written = await bulk(
            actions, using=self.client, max_concurrent_chunks=self.concurrency, chunk_size=self.chunk_size,
            revalidate=False, require_alias=self.fence is not None,
            unscoped=True,  # a copy keeps every document as it is, whatever its tenant
            timestamps=False,  # and its created/updated times as stored: a copy is no write of the data
        )
        self._check_fence(failure.error for failure in written.failed)
        for success in written.succeeded:
            result.copied.add((success.id, actions[success.position].document.meta.routing))
        for failure in written.failed:
            meta = actions[failure.position].document.meta
            error = failure.error
            if isinstance(error, BulkItemError) and not 400 <= error.status < 500:
                raise MigrationError(self.alias, f"writing document {meta.id!r} failed: {error}") from error
            result.invalid[(str(meta.id), meta.routing)] = str(error)
        if written.not_attempted:
            cause = written.failed[-1].error if written.failed else None
            raise MigrationError(self.alias, f"a bulk request to {self.target!r} failed: {cause}") from cause
        return result

    async def delete(self, keys: Iterable[Key]) -> dict[Key, str]:
        """Delete documents from the target; one that is already gone (404) is fine.

        Returns:
            The deletes that failed, each with its error (an item refused, or its request
            failed after the bulk's retries); empty when every one succeeded.
        """
        actions = [
            DeleteAction(id, document_class=self.document, index=self.write_to, routing=routing) for id, routing in keys
        ]
        if not actions:
            return {}
        await self._take_fence()
        result = await bulk(
            actions, using=self.client, max_concurrent_chunks=self.concurrency, chunk_size=self.chunk_size,
            require_alias=self.fence is not None, unscoped=True,
        )
        self._check_fence(failure.error for failure in result.failed)
        failed: dict[Key, str] = {}
        for failure in result.failed:
            if not (isinstance(failure.error, BulkItemError) and failure.error.status == 404):
                action = actions[failure.position]
                failed[(str(action.target), action.routing)] = str(failure.error)
        for skipped in result.not_attempted:
            action = actions[skipped.position]
            failed[(str(action.target), action.routing)] = "not attempted: the bulk stopped after a failed request"
        return failed

    async def _take_fence(self) -> None:
        """Take this owner's fence on the target before the first write (removing every older owner's).

        Raises:
            MigrationLockedError: a newer owner took the migration over.
        """
        if self.fence is not None:
            await self.fence.take(self.target)

    def _check_fence(self, errors: Iterable[BaseException]) -> None:
        """Raise when Elasticsearch refused a write because this owner's fence is gone: a newer owner took
        the migration over (the writes of this page that landed before it did are its to redo).

        Raises:
            MigrationLockedError: the fence was removed.
        """
        if self.fence is not None and any(self.fence.refused(error) for error in errors):
            raise self.fence.lost(f"Elasticsearch refused writes through its fence {self.fence.name}")

    def expected_source(self, hit: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``_source`` the copy of ``hit`` must have, or ``None`` if it is not copied."""
        documents, _ = self.prepare([hit])
        if not documents:
            return None
        document = documents[0]
        expected: dict[str, Any] = from_json(encode_source(document, document.meta, self.target, revalidate=False, stamp=False))
        return expected


async def primary_seq_nos(
    client: AsyncElasticsearch, index: str, which: Literal["local_checkpoint", "max_seq_no"]
) -> dict[str, int]:
    """A sequence number of each primary shard of ``index``, by shard number.

    ``"local_checkpoint"``: every operation at or below it is in Lucene, so a refresh
    makes it visible (the copy's marks). ``"max_seq_no"``: the highest number *issued*; a
    write holding it may not be indexed yet (a bound on what was written before, as the
    rollback's marks at the swap are).
    """
    stats = await client.indices.stats(index=index, level="shards", metric="docs")
    shards = stats["indices"][index]["shards"]
    return {
        number: int(copy["seq_no"][which]) for number, copies in shards.items() for copy in copies if copy["routing"]["primary"]
    }


async def pit_pages(
    client: AsyncElasticsearch, pit: str, after: list[Any] | None, page_size: int, keep_alive: str, source: bool = True
) -> AsyncIterator[tuple[list[dict[str, Any]], list[Any], str]]:
    """Pages of a point in time, in ``_shard_doc`` order from ``after``: (hits, last sort values, pit id).

    The next page is requested while the caller works on this one.
    """

    async def fetch(pit_id: str, after: list[Any] | None) -> Any:
        options: dict[str, Any] = {"search_after": after} if after is not None else {}
        options["source"] = SOURCE_WITH_VECTORS if source else False
        return await client.search(
            pit={"id": pit_id, "keep_alive": keep_alive}, sort=[{"_shard_doc": "asc"}], size=page_size,
            track_total_hits=False, **options,
        )

    pending = asyncio.ensure_future(fetch(pit, after))
    try:
        while True:
            answer = await pending
            hits = answer["hits"]["hits"]
            if not hits:
                return
            pit = answer.get("pit_id", pit)
            after = hits[-1]["sort"]
            pending = asyncio.ensure_future(fetch(pit, after))
            yield hits, after, pit
    finally:
        if not pending.done():
            pending.cancel()
        elif not pending.cancelled():
            pending.exception()  # retrieved: a prefetched page nobody asks for fails silently (a closed pit)


async def changed_pages(
    client: AsyncElasticsearch, index: str, marks: Mapping[str, int], page_size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of the documents of ``index`` whose ``_seq_no`` is above their primary shard's mark.

    Meant for an index whose writes are blocked (refreshed after the block): nothing moves.
    """
    for shard, mark in sorted(marks.items(), key=lambda item: int(item[0])):
        after: list[Any] | None = None
        while True:
            options: dict[str, Any] = {"search_after": after} if after is not None else {}
            answer = await client.search(
                index=index, preference=f"_shards:{shard}", query={"range": {"_seq_no": {"gt": mark}}},
                sort=[{"_seq_no": "asc"}], size=page_size, track_total_hits=False, source=SOURCE_WITH_VECTORS, **options,
            )
            hits = answer["hits"]["hits"]
            if not hits:
                break
            after = hits[-1]["sort"]
            yield hits


async def keys_of(client: AsyncElasticsearch, index: str, keep_alive: str = "2m") -> set[Key]:
    """Every document of ``index`` (its id and routing), read through a point in time."""
    pit = (await client.open_point_in_time(index=index, keep_alive=keep_alive))["id"]
    keys: set[Key] = set()
    try:
        async for hits, _, pit in pit_pages(client, pit, None, _ID_PAGE, keep_alive, source=False):
            keys.update(key_of(hit) for hit in hits)
    finally:
        await client.close_point_in_time(id=pit)
    return keys
