"""``run_example``: run a documentation example against a local node, connected and closed."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from ..connections import async_connections
from ._node import ensure_node

__all__ = ["run_example"]


async def run_example(main: Callable[[], Awaitable[None]]) -> None:
    """Connect the default alias to ``$ODM_ES_URL`` (or a node started now), run ``main``, close.

    ``$ODM_ES_URL`` is set to the node's URL for the examples that read it; a node that
    had to be started is stopped when the interpreter exits.
    """
    node = ensure_node()
    os.environ.setdefault("ODM_ES_URL", node.url)
    async_connections.create_connection(hosts=[node.url], timeout=30)
    try:
        await main()
    finally:
        await async_connections.close()
