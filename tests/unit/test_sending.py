"""The send loop's hold on the layers below it (odm/_sending.py)."""

from __future__ import annotations

import aiohttp
from elasticsearch import AsyncElasticsearch

from odm._sending import send


async def test_the_installed_aiohttp_has_the_re_send_flag_odm_turns_off() -> None:
    """aiohttp re-sends a GET, HEAD, PUT or DELETE on a broken kept-alive connection unless its
    session's ``_retry_connection`` is off; odm turns it off. An aiohttp without the flag would make
    odm's count of such requests short again: this fails first."""
    async with aiohttp.ClientSession() as session:
        assert session._retry_connection is True


async def test_odm_turns_aiohttps_re_send_off_on_every_node_before_its_first_request() -> None:
    client = AsyncElasticsearch(["http://127.0.0.1:9", "http://127.0.0.1:10"])
    try:
        nodes = client.transport.node_pool.all()
        assert all(node.session is None for node in nodes)  # type: ignore[attr-defined]
        # A request that never reaches the network: the check is made before it is sent.
        assert await send(client, lambda quiet: _answer()) == "answered"
        assert [node.session._retry_connection for node in nodes] == [False, False]  # type: ignore[attr-defined]
    finally:
        await client.close()


async def _answer() -> str:
    return "answered"
