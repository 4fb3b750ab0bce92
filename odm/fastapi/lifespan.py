"""``odm_lifespan``: connect at start-up, create the indices, close at shutdown.

The client is created inside the running event loop (an ``AsyncElasticsearch`` built at
import time would bind its aiohttp session to no loop, or to the wrong one under a
reloader), the start-up waits a bounded time for the node (containers start in any
order), and every document class is ``init()``-ed: the index is created, or compatible
mapping changes are applied. Several workers starting at once are safe: ``init()``
treats ``resource_already_exists_exception`` (another worker created the index between
its check and its create) as "exists" and goes on to compare mappings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, Union

from typing_extensions import TypeAlias

from elasticsearch import ApiError, AsyncElasticsearch, ConnectionError, ConnectionTimeout

from .._core.settings import OdmSettings
from ..connections import async_connections
from ..document import AsyncDocument
from ..errors import NodeUnavailableError

__all__ = ["StartupStep", "odm_lifespan", "wait_for_node"]


class _Saved(Protocol):
    """Something saved on the node with ``save(using=...)``: an index template, a mapping."""

    def save(self, using: Any = ...) -> Awaitable[Any]: ...


#: A start-up step of :func:`odm_lifespan`: an index template (or anything with
#: ``save(using=...)``), or an async callable given the lifespan's client.
StartupStep: TypeAlias = Union[_Saved, Callable[[AsyncElasticsearch], Awaitable[Any]]]

_FIRST_PAUSE = 0.25
_LONGEST_PAUSE = 2.0
_LONGEST_PING = 5.0


def odm_lifespan(
    *documents: type[AsyncDocument],
    settings: OdmSettings | None = None,
    alias: str = "default",
    startup: Sequence[StartupStep] = (),
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A FastAPI (or Starlette) ``lifespan`` that connects odm and creates the documents' indices.

    Example::

        app = FastAPI(lifespan=odm_lifespan(Post, Comment))

    At start-up: reads the settings (``settings``, else :meth:`OdmSettings.from_env` now,
    not at import), registers a client under ``alias`` in ``odm.async_connections``,
    waits up to ``settings.startup_timeout`` seconds for the node, then ``init()``-s each
    document class through that client. At shutdown the client is closed. Inside another
    lifespan: ``async with odm_lifespan(Post)(app): yield``.

    Args:
        startup: steps run in order once the node answers and before the documents are
            ``init()``-ed (so a template applies to the indices they create): an index
            template, e.g. ``Post.as_template("posts")``, is saved through the lifespan's
            client; an async callable is awaited with the client
            (``async def seed(client): ...``). A step that fails stops the start-up.

    Raises (at start-up, so the server does not start):
        NodeUnavailableError: the node did not answer in time; names the URL (without its password).
        MappingConflictError: a live index's mapping is incompatible with a document class.
        elasticsearch.AuthenticationException: the node refused the credentials (not retried).
    """

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        chosen = settings if settings is not None else OdmSettings.from_env()
        client = async_connections.create_connection(alias, **chosen.client_options())
        try:
            await wait_for_node(client, chosen.display_url, chosen.startup_timeout)
            for step in startup:
                save = getattr(step, "save", None)
                await (save(using=client) if callable(save) else step(client))  # type: ignore[operator]
            for document in documents:
                await document.init(using=client)
            yield
        finally:
            await _close(alias, client)

    return lifespan


async def wait_for_node(client: AsyncElasticsearch, url: str, timeout: float) -> None:
    """Return once the node answers ``GET /_cluster/health``; wait at most ``timeout`` seconds.

    Any status of the cluster counts as an answer (a red index elsewhere must not keep a
    service from starting). Connection errors, timeouts, 429 and 5xx answers (a node
    still starting says 503) are retried with growing pauses; other errors, such as
    401 for wrong credentials, are raised at once: waiting would not fix them.

    Raises:
        NodeUnavailableError: no answer within ``timeout``; ``url`` is named in the message.
    """
    started = time.monotonic()
    deadline = started + timeout
    pause = _FIRST_PAUSE
    while True:
        remaining = deadline - time.monotonic()
        try:
            ping = client.options(request_timeout=max(0.1, min(remaining, _LONGEST_PING)), max_retries=0)
            await ping.cluster.health()
            return
        except (ConnectionError, ConnectionTimeout) as error:
            last = _describe(error)
        except ApiError as error:
            if error.meta.status != 429 and error.meta.status < 500:
                raise
            last = f"HTTP {error.meta.status} {error.message}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NodeUnavailableError(url, timeout, last)
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 2, _LONGEST_PAUSE)


def _describe(error: Exception) -> str:
    cause = error.__cause__ or error.__context__
    detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
    return f"{type(error).__name__}: {error}{detail}"


async def _close(alias: str, client: AsyncElasticsearch) -> None:
    """Close this lifespan's client; unregister ``alias`` only if it still names that client."""
    # The registry's own table, not get_connection(): that would build a client from
    # configure()'s options if the alias was replaced meanwhile.
    if async_connections._conns.get(alias) is client:
        await async_connections.close(alias)
    else:  # another lifespan (another worker in this process, a test) registered its own since
        await client.close()
