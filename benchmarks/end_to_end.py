"""End to end on a real node: bulk indexing and a 1,000-hit search, odm beside the peers.

Run: ``benchmarks/run end_to_end`` (or ``python -m benchmarks.end_to_end [--quick]``).
The node is ``$ODM_ES_URL`` if set, else the test node ``odm.testing`` starts.
The indices it creates (``bench-e2e-bulk``, ``bench-articles``, after ``$ODM_BENCH_INDEX_PREFIX``
if set) are deleted at the end.
"""

import asyncio
import sys
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl import async_connections as dsl_connections
from elasticsearch.helpers import async_bulk

from benchmarks._data import INDEX, NAMES, DslArticle, OdmArticle, PydanticArticle, article_sources
from benchmarks._timing import Table, machine, time_async
from odm import Meta
from odm.testing import ensure_node

PREFIX = NAMES + "bench-e2e-"
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


async def _fresh_index(client: AsyncElasticsearch, name: str) -> None:
    await client.options(ignore_status=404).indices.delete(index=name)
    await client.indices.create(index=name, mappings=OdmArticle.mapping_dict(), settings=SETTINGS)


async def _count(client: AsyncElasticsearch, name: str) -> int:
    await client.indices.refresh(index=name)
    return int((await client.count(index=name))["count"])


def _bulk_paths(client: AsyncElasticsearch, name: str, documents: list[OdmArticle]) -> dict[str, Any]:
    dicts = [document.model_dump() for document in documents]  # datetimes as datetime objects

    async def helper() -> None:
        actions = ({"_index": name, "_id": d.meta.id, "_source": s} for d, s in zip(documents, dicts))
        await async_bulk(client, actions, chunk_size=500)

    async def odm(**options: Any) -> None:
        result = await OdmArticle.bulk(documents, using=client, index=name, **options)
        assert result.ok, result

    return {
        "async_bulk, dicts": helper,
        "odm bulk (defaults: 2 chunks in flight)": odm,
        "odm bulk, 1 chunk in flight": lambda: odm(max_concurrent_chunks=1),
        "odm bulk, revalidate=False": lambda: odm(revalidate=False),
    }


async def bulk_table(client: AsyncElasticsearch, count: int, repetitions: int) -> Table:
    """Index ``count`` documents into a fresh index: raw helper with dicts vs odm.

    A warm-up round on a tenth of the documents is not recorded.
    """
    documents = [OdmArticle.model_validate(source) for source in article_sources(count)]
    for number, document in enumerate(documents):
        document.meta.id = str(number)
    name = PREFIX + "bulk"

    async def fresh() -> None:
        # Each path writes new documents into a new index: a document odm wrote carries the
        # index and tokens of that write, and would be sent as a conditional write (409 in
        # the recreated index, where no such seq_no exists). The same ids, no tokens.
        await _fresh_index(client, name)
        for document in documents:
            document.meta = Meta(id=document.meta.id)

    warmup = Table("warm-up", count // 10, "document", "async_bulk, dicts")
    await time_async(warmup, _bulk_paths(client, name, documents[: count // 10]), 1, warmup=0, before=fresh)
    table = Table(f"bulk indexing, {count:,} documents", count, "document", "async_bulk, dicts")
    await time_async(table, _bulk_paths(client, name, documents), repetitions, warmup=0, before=fresh)
    assert await _count(client, name) == count
    return table


async def search_table(client: AsyncElasticsearch, count: int, repetitions: int) -> Table:
    """One search returning ``count`` hits: raw client dicts vs odm models vs the dsl peers."""
    name = INDEX  # elasticsearch.dsl reads hits as DslArticle only from an index of that name
    await _fresh_index(client, name)
    actions = ({"_index": name, "_id": str(n), "_source": s} for n, s in enumerate(article_sources(count)))
    await async_bulk(client, actions, refresh=True)
    dsl_connections.add_connection("default", client)

    async def raw() -> Any:
        return (await client.search(index=name, size=count)).body

    async def odm() -> Any:
        return list(await OdmArticle.search(using=client, index=name).extra(size=count).execute())

    async def dsl() -> Any:
        return list(await DslArticle.search(index=name).extra(size=count).execute())

    async def dsl_pydantic() -> Any:
        hits = await PydanticArticle._doc.search(index=name).extra(size=count).execute()
        return [PydanticArticle.from_doc(hit) for hit in hits]

    table = Table(f"one search, {count:,} hits", count, "hit", "raw client, dicts")
    paths = {
        "raw client, dicts": raw,
        "odm models": odm,
        "elasticsearch.dsl Documents": dsl,
        "elasticsearch.dsl.pydantic": dsl_pydantic,
    }
    await time_async(table, paths, repetitions)
    return table


async def run(quick: bool) -> None:
    node = ensure_node()
    print(f"# odm end-to-end benchmarks\n\nmachine: {machine()}\nElasticsearch {node.version} at {node.url}")
    client = AsyncElasticsearch(node.url, request_timeout=120)
    try:
        (await search_table(client, 1_000, 5 if quick else 20)).print()
        (await bulk_table(client, 10_000 if quick else 100_000, 1 if quick else 3)).print()
    finally:
        await client.options(ignore_status=404).indices.delete(index=[PREFIX + "bulk", INDEX])
        await client.close()


if __name__ == "__main__":
    asyncio.run(run("--quick" in sys.argv))
