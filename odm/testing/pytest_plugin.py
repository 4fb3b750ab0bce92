"""pytest plugin: a real Elasticsearch node and per-test clean-up, for odm's tests and yours.

Installed with odm (entry point ``pytest11: odm``), so it loads in every pytest run,
but it starts nothing until a test asks for ``es_node`` (directly or through the
other fixtures) or carries the ``requires_module`` marker.

Fixtures:
    es_node (session): the :class:`~odm.testing.NodeInfo` of the node shared by the
        run: ``$ODM_ES_URL`` if set, else a node started once and stopped at exit.
    es_url (session): ``es_node.url``.
    index_prefix (function): a unique lowercase prefix such as ``odm-t-1a2b3c4d-``;
        afterwards every index, index template, component template and legacy
        template whose name starts with it is deleted.
    odm_client (function, async; needs pytest-asyncio): an ``AsyncElasticsearch``
        registered as odm's ``"default"`` connection, closed and unregistered after.

Marker:
    ``@pytest.mark.requires_module("reindex")`` skips the test, naming the module,
    when the node lacks it.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from odm.testing._cleanup import delete_prefixed
from odm.testing._node import NodeInfo, ensure_node

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``requires_module`` marker."""
    config.addinivalue_line(
        "markers",
        "requires_module(name, ...): skip unless the Elasticsearch test node has every named module",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``requires_module`` whose module the node lacks."""
    wanted = [name for marker in item.iter_markers("requires_module") for name in marker.args]
    if not wanted:
        return
    missing = [name for name in wanted if name not in ensure_node().modules]
    if missing:
        pytest.skip(f"the Elasticsearch test node lacks the module(s) {', '.join(missing)}")


@pytest.fixture(scope="session")
def es_node() -> NodeInfo:
    """The run's Elasticsearch node: ``$ODM_ES_URL``, or one started once per run."""
    return ensure_node()


@pytest.fixture(scope="session")
def es_url(es_node: NodeInfo) -> str:
    """Base URL of the run's Elasticsearch node, without a trailing slash."""
    return es_node.url


@pytest.fixture
def index_prefix(es_url: str) -> Iterator[str]:
    """A unique name prefix for this test; what was created under it is deleted after."""
    prefix = f"odm-t-{uuid.uuid4().hex[:8]}-"
    yield prefix
    delete_prefixed(es_url, prefix)


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def odm_client(es_url: str) -> AsyncIterator[AsyncElasticsearch]:
        """odm's ``"default"`` connection to the test node; every client is closed after."""
        from odm.connections import async_connections

        client = async_connections.create_connection("default", hosts=[es_url], request_timeout=30)
        try:
            yield client
        finally:
            await async_connections.close()
            if "default" in async_connections.aliases():
                async_connections.remove_connection("default")
