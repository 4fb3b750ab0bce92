"""kill -9 of the node in the middle of a bulk write, a restart on the same data, and an audit.

The node is this module's own (the shared one must not crash), with a persistent
``data_dir``; it is started once and restarted once. The bulk goes through odm
(``Doc.bulk``) on a client registered in ``async_connections``, with short timeouts
and few retries, so that the dead node turns into a result, not a hang.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch, ConnectionError, ConnectionTimeout

from odm import AsyncDocument, BulkResult, Keyword, Text
from odm.connections import async_connections
from odm.testing import ElasticsearchNode

DOCS = 3_000
CHUNK = 100
KILL_AFTER = 600  # succeeded inputs reported by the progress callback


class Doc(AsyncDocument):
    title: Annotated[str, Text()]
    tag: Annotated[str, Keyword()]
    n: int
    ratio: float
    words: list[str]

    class Index:
        name = "odm-crash-docs"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def make(n: int) -> Doc:
    return Doc(
        title=f"document {n} \u00e9\u00e8 \U0001f600",
        tag=f"t{n % 7}",
        n=n,
        ratio=n / 7,
        words=[str(n), "x" * (n % 13)],
        meta={"id": f"d{n}"},
    )


@pytest.fixture
def crash_node() -> Iterator[ElasticsearchNode]:
    # Not pytest's tmp_path: it is mode 0700, and the node runs as nobody when we are root.
    data_dir = Path(tempfile.mkdtemp(prefix="odm-crash-data-"))
    node = ElasticsearchNode(data_dir=data_dir, heap="256m", settings={"node.name": "odm-crash"})
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def connect(alias: str, url: str) -> AsyncElasticsearch:
    return async_connections.create_connection(
        alias, hosts=[url], request_timeout=5, max_retries=1, retry_on_timeout=False
    )


async def test_kill_9_mid_bulk_then_restart_loses_nothing_reported_succeeded(crash_node: ElasticsearchNode) -> None:
    node = crash_node
    data_dir = node.data_dir
    assert data_dir is not None
    docs = [make(n) for n in range(DOCS)]
    ids = [f"d{n}" for n in range(DOCS)]
    sources = {ids[n]: json.loads(doc.to_source()) for n, doc in enumerate(docs)}
    client = connect("crash-before", node.url)
    killed_at: list[int] = []

    def progress(result: BulkResult[Any]) -> None:
        if not killed_at and len(result.succeeded) >= KILL_AFTER:
            killed_at.append(len(result.succeeded))
            node.kill()  # synchronously, in the middle: the next request finds no node

    try:
        await Doc.init(using=client)
        started = time.monotonic()
        bulk = asyncio.create_task(
            Doc.bulk(docs, using=client, chunk_size=CHUNK, max_retries=1, initial_backoff=0.05, progress=progress)
        )
        result = await asyncio.wait_for(bulk, timeout=60)  # a result, not a hang
        bulk_seconds = time.monotonic() - started
        print(f"killed at {killed_at}, {result!r} in {bulk_seconds:.2f}s")
    finally:
        await async_connections.close("crash-before")  # closes the client and forgets the alias

    # The kill happened mid-bulk, and the result says so.
    assert killed_at, "the node was never killed: the bulk finished before KILL_AFTER successes"
    assert node.pid is None and node.run_dir is not None and data_dir.is_dir()
    assert bulk_seconds < 30, bulk_seconds
    assert not result.ok and len(result.succeeded) < DOCS
    assert result.failed or result.not_attempted
    for failure in result.failed:  # the request in flight at the kill: the outcome is unknown
        assert isinstance(failure.error, (ConnectionError, ConnectionTimeout)), repr(failure.error)

    # Every input is accounted for exactly once.
    positions = [entry.position for entry in (*result.succeeded, *result.failed, *result.not_attempted)]
    assert sorted(positions) == list(range(DOCS))
    succeeded = {ids[s.position] for s in result.succeeded}
    failed = {ids[f.position] for f in result.failed}
    not_attempted = {ids[e.position] for e in result.not_attempted}
    assert all(s.id == ids[s.position] == docs[s.position].meta.id for s in result.succeeded)
    assert {s.result for s in result.succeeded} == {"created"}

    # Restart on the same data directory: what was acknowledged is there, byte for byte.
    node.start()
    client = connect("crash-after", node.url)
    try:
        raw = await client.mget(index=Doc.index_name(), ids=ids)
        present = {d["_id"]: d["_source"] for d in raw["docs"] if d.get("found")}
        assert succeeded <= present.keys(), f"lost after the crash: {sorted(succeeded - present.keys())[:10]}"
        for doc_id in succeeded:
            assert present[doc_id] == sources[doc_id], doc_id
        # Nothing appears that was never sent; a failed input may or may not have been applied.
        assert present.keys() <= succeeded | failed
        assert not (present.keys() & not_attempted)
        for doc_id in present.keys() & failed:
            assert present[doc_id] == sources[doc_id], doc_id
        print(f"after the restart: {len(present)} present, of which {len(present.keys() & failed)} failed")
        # And through odm's own reader: the same documents, validated.
        some = sorted(succeeded)[:50]
        for doc_id, got in zip(some, await Doc.mget(some, using=client), strict=True):
            assert got is not None and got.model_dump() == docs[int(doc_id[1:])].model_dump()
        await client.indices.refresh(index=Doc.index_name())
        count = (await client.count(index=Doc.index_name()))["count"]
        assert count == len(present)
    finally:
        await async_connections.close("crash-after")  # closes the client and forgets the alias

    node.stop()
    assert node.run_dir is None and data_dir.is_dir() and any(data_dir.iterdir())
