"""The async_connections registry against the real node; closing leaves no unclosed sessions.

pytest runs with warnings as errors, and each test collects garbage before it ends, so an
aiohttp "Unclosed client session" ResourceWarning fails the test that leaked it.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncConnections, AsyncSearch


@pytest.fixture
def registry() -> Iterator[AsyncConnections]:
    yield AsyncConnections()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()


async def ping(client: AsyncElasticsearch) -> str:
    return str((await client.cluster.health())["status"])


async def test_create_connection_accepts_the_dsl_page_arguments(registry: AsyncConnections, es_url: str) -> None:
    client = registry.create_connection(hosts=[es_url], timeout=20)
    assert registry.get_connection() is client
    assert registry.get_connection("default") is client
    assert await ping(client) in {"green", "yellow"}
    await registry.close()
    with pytest.raises(KeyError):
        registry.get_connection()


async def test_configure_several_aliases_builds_clients_lazily(registry: AsyncConnections, es_url: str) -> None:
    registry.configure(default={"hosts": [es_url]}, reports={"hosts": [es_url], "timeout": 5})
    assert registry.aliases() == ["default", "reports"]
    reports = registry.get_connection("reports")
    assert registry.get_connection("reports") is reports
    assert registry.get_connection("default") is not reports
    assert await ping(reports) in {"green", "yellow"}
    with pytest.raises(KeyError, match="no connection with alias 'nope'"):
        registry.get_connection("nope")
    await registry.close("reports")
    fresh = registry.get_connection("reports")  # configuration kept: a new client
    assert fresh is not reports
    await registry.close()


async def test_replaced_and_removed_clients_are_closed_too(registry: AsyncConnections, es_url: str) -> None:
    first = registry.create_connection(hosts=[es_url])
    await ping(first)
    second = registry.create_connection(hosts=[es_url])  # replaces `first`
    await ping(second)
    registry.add_connection("other", AsyncElasticsearch(hosts=[es_url]))
    await ping(registry.get_connection("other"))
    registry.remove_connection("other")
    with pytest.raises(KeyError):
        registry.remove_connection("other")
    registry.configure(default={"hosts": [es_url]})  # drops `second`
    await ping(registry.get_connection())
    await registry.close()


async def test_using_takes_an_alias_or_a_client(odm_client: AsyncElasticsearch, es_url: str) -> None:
    client = AsyncElasticsearch(hosts=[es_url])
    try:
        assert await AsyncSearch(using=client, index="_all").count() >= 0
        assert await AsyncSearch(using="default", index="_all").count() >= 0
    finally:
        await client.close()
