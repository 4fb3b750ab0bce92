"""The elasticsearch-dsl asyncio page's connection and search examples, run as written.

Only the index is ours (the page searches every index); the calls are the page's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncSearch, async_connections


@pytest.fixture
async def blog(odm_client: AsyncElasticsearch, index_prefix: str) -> str:
    index = index_prefix + "blogs"
    await odm_client.index(index=index, id="1", document={"title": "python rocks", "tags": ["python"]}, refresh=True)
    return index


async def test_connections_section(es_url: str) -> None:
    host = urlsplit(es_url).netloc  # the page writes a bare host: 'localhost'
    async_connections.create_connection(hosts=[host], timeout=20)
    es = async_connections.get_connection()
    assert (await es.cluster.health())["status"] in {"green", "yellow"}
    await es.close()
    await async_connections.close()


async def test_search_dsl_section(blog: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = AsyncSearch().query("match", title="python")
    async for hit in s:
        print(hit.title)

    s = AsyncSearch().query("match", title="python")
    response = await s.execute()
    for hit in response:
        print(hit.title)

    assert capsys.readouterr().out.count("python rocks") == 2
