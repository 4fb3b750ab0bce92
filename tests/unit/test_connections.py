"""What create_connection accepts, without a server (clients are built, never used)."""

from __future__ import annotations

import pytest

from odm import AsyncConnections
from odm.connections import _client_kwargs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"hosts": ["localhost"], "timeout": 20}, {"hosts": ["http://localhost:9200"], "request_timeout": 20}),
        ({"hosts": "es:9201"}, {"hosts": ["http://es:9201"]}),
        ({"hosts": ["https://es.example.com:443"]}, {"hosts": ["https://es.example.com:443"]}),
        ({"hosts": [{"host": "x", "port": 1, "scheme": "http"}]}, {"hosts": [{"host": "x", "port": 1, "scheme": "http"}]}),
        ({"timeout": 5, "request_timeout": 9}, {"request_timeout": 9}),
    ],
)
def test_the_dsl_page_arguments_become_9x_client_arguments(given: dict[str, object], expected: dict[str, object]) -> None:
    assert _client_kwargs(given) == expected


async def test_create_connection_as_on_the_dsl_page_builds_a_client() -> None:
    registry = AsyncConnections()
    client = registry.create_connection(hosts=["localhost"], timeout=20)
    assert registry.get_connection() is client
    assert str(client.transport.node_pool.get().base_url) == "http://localhost:9200"
    await registry.close()
