"""What odm's client-side ids cost at indexing: id-less documents, odm's ids vs Elasticsearch's.

Run: ``benchmarks/run client_ids [--quick]`` (or ``python -m benchmarks.client_ids``).
Each path bulk-indexes the same id-less benchmark articles into a fresh index: with
odm's ids (the default: each gets a 20-character time-ordered id and is sent as a
create, so a re-send after a lost answer meets its own document) and with
``Index.client_ids = False`` (Elasticsearch makes the ids, and may store a document twice
after a lost answer). The node is ``$ODM_ES_URL`` if set, else the test node.
"""

import asyncio
import sys
from typing import Any

from elasticsearch import AsyncElasticsearch

from benchmarks._data import NAMES, OdmArticle, article_sources
from benchmarks._timing import Table, machine, time_async
from odm.testing import ensure_node

INDEX = NAMES + "bench-client-ids"  # after $ODM_BENCH_INDEX_PREFIX, if set
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


class AutoIdArticle(OdmArticle):
    class Index:
        client_ids = False


async def run(quick: bool) -> None:
    count, repetitions = (5_000, 3) if quick else (50_000, 5)
    client = AsyncElasticsearch(ensure_node().url, request_timeout=120)
    sources = article_sources(count)
    baseline = "Elasticsearch's ids (client_ids = False)"
    table = Table(f"bulk-index documents without ids, {machine()}", count, "document", baseline)
    documents: dict[type[OdmArticle], list[OdmArticle]] = {}

    async def fresh() -> None:  # untimed: a fresh index, and documents that have no id yet
        await client.options(ignore_status=404).indices.delete(index=INDEX)
        await client.indices.create(index=INDEX, mappings=OdmArticle.mapping_dict(), settings=SETTINGS)
        for cls in (AutoIdArticle, OdmArticle):
            documents[cls] = [cls.model_validate(source) for source in sources]

    def path(cls: type[OdmArticle]) -> Any:
        async def write() -> None:
            result = await cls.bulk(documents[cls], using=client, index=INDEX)
            assert result.ok and len(result.succeeded) == count, result

        return write

    try:
        await time_async(table, {baseline: path(AutoIdArticle), "odm's ids (default)": path(OdmArticle)}, repetitions, before=fresh)
        table.print()
    finally:
        await client.options(ignore_status=404).indices.delete(index=INDEX)
        await client.close()


if __name__ == "__main__":
    asyncio.run(run("--quick" in sys.argv))
