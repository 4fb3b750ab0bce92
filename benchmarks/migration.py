"""A migration through the model beside a plain copy: documents per second on the same node.

Run: ``benchmarks/run migration [--documents 200000] [--repetitions 1]``
(``--quick``: 20,000 documents). The node is ``$ODM_ES_URL`` if set, else the test node.

The source is a versioned index of the benchmark article (13 fields, ~1 KB); the new
model changes ``category`` from keyword to text (a new index). Side by side:

- **plain copy**: ``elasticsearch.helpers.async_scan`` (scroll, 1,000 per page) into
  ``async_bulk`` (500 per request), no validation, into an index with the new mapping,
  created with no replicas and no refresh, as the migration creates its own, then one
  refresh (the copy is done when its documents can be read);
- **odm.migrate.apply**: the whole migration (copy through the model, catch-up, the
  delete pass over the ids of both indices when the counts do not prove it needless,
  verification, swap), and its copy phase alone.

Between repetitions the migration is undone (alias back, new index and state deleted).
"""

import asyncio
import sys
import time
from typing import Annotated

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk, async_scan

from benchmarks._data import NAMES, OdmArticle, article_sources
from benchmarks._timing import Table, machine
from odm import Progress, Text, apply
from odm.testing import ensure_node

ALIAS = NAMES + "bench-mig-articles"  # after $ODM_BENCH_INDEX_PREFIX, if set
PLAIN = NAMES + "bench-mig-plain"
STATE = NAMES + "bench-mig-state"
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


class ArticleV1(OdmArticle):
    """The benchmark article, stored in a versioned index."""

    class Index:
        name = ALIAS
        versioned = True
        settings = SETTINGS


class ArticleV2(ArticleV1):
    category: Annotated[str, Text()]  # keyword -> text: a new index

    class Index:
        name = ALIAS
        versioned = True
        settings = SETTINGS


async def _setup(client: AsyncElasticsearch, count: int) -> None:
    await _cleanup(client)
    await ArticleV1.init(using=client)
    actions = ({"_index": ALIAS, "_id": str(n), "_source": s} for n, s in enumerate(article_sources(count)))
    await async_bulk(client, actions, chunk_size=1000, refresh=True)


async def _cleanup(client: AsyncElasticsearch) -> None:
    await client.indices.delete(
        index=f"{ALIAS}-v*,{PLAIN},{STATE}", expand_wildcards="all", allow_no_indices=True, ignore_unavailable=True
    )


async def _plain_copy(client: AsyncElasticsearch) -> None:
    await client.options(ignore_status=404).indices.delete(index=PLAIN)
    settings = {**SETTINGS, "refresh_interval": "-1"}
    await client.indices.create(index=PLAIN, mappings=ArticleV2.mapping_dict(), settings=settings)
    hits = async_scan(client, index=ALIAS, size=1000, scroll="5m")
    actions = ({"_index": PLAIN, "_id": hit["_id"], "_source": hit["_source"]} async for hit in hits)
    await async_bulk(client, actions, chunk_size=500)
    await client.indices.refresh(index=PLAIN)  # a copy is done when its documents can be read


async def _undo_migration(client: AsyncElasticsearch) -> None:
    """Back to the start: the alias on v1, writable, no v2, no state."""
    behind = sorted((await client.indices.get_alias(name=ALIAS)).body)
    if behind != [f"{ALIAS}-v1"]:
        await client.indices.update_aliases(
            actions=[
                {"remove": {"index": f"{ALIAS}-v2", "alias": ALIAS}},
                {"add": {"index": f"{ALIAS}-v1", "alias": ALIAS, "is_write_index": True}},
            ]
        )
    await client.indices.put_settings(index=f"{ALIAS}-v1", settings={"index.blocks.write": None})
    await client.indices.delete(index=f"{ALIAS}-v2,{STATE}", ignore_unavailable=True)


async def run(count: int, repetitions: int) -> None:
    node = ensure_node()
    print(f"# odm migration benchmark\n\nmachine: {machine()}\nElasticsearch {node.version} at {node.url}")
    client = AsyncElasticsearch(node.url, request_timeout=300)
    table = Table(f"copy {count:,} documents to a new index", count, "document", "plain async_scan + async_bulk")
    try:
        started = time.perf_counter()
        await _setup(client, count)
        print(f"\nloaded {count:,} documents in {time.perf_counter() - started:.1f} s")
        for _ in range(repetitions):
            start = time.perf_counter()
            await _plain_copy(client)
            table.add("plain async_scan + async_bulk", time.perf_counter() - start)

            marks: dict[str, float] = {}

            def mark(event: Progress) -> None:
                marks.setdefault(event.phase, time.perf_counter())

            start = time.perf_counter()
            result = await apply(ArticleV2, client, on_progress=mark, state_index=STATE)
            total = time.perf_counter() - start
            assert result.outcome == "migrated" and result.copied == count, result
            table.add("odm.migrate.apply, copy phase", marks["block"] - marks["create"])
            table.add("odm.migrate.apply, whole migration", total)
            phases = ["create", "block", "catch_up", "verify", "swap", "done"]
            spent = ", ".join(f"{a}->{b} {marks[b] - marks[a]:.1f} s" for a, b in zip(phases, phases[1:]))
            print(f"migration phases: start->create {marks['create'] - start:.1f} s, {spent}")
            await _undo_migration(client)
        table.print()
        for path in table.times:
            print(f"- {path}: {count / table.best(path):,.0f} documents/s")
    finally:
        await _cleanup(client)
        await client.close()


def _option(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    asyncio.run(run(_option("--documents", 20_000 if quick else 200_000), _option("--repetitions", 1)))
