"""The ``async_connections`` registry: named ``AsyncElasticsearch`` clients.

It is elasticsearch.dsl's registry (same ``configure``/``create_connection``/
``get_connection``/``remove_connection``), plus what an async service needs on
shutdown: ``close()`` closes clients, including ones that ``configure`` or a second
``create_connection`` replaced, so no aiohttp session is left unclosed.

A connection may carry odm's :class:`~odm.RetryPolicy` (``create_connection(..., retry=...)``):
``_sending`` keeps it and sends every request of odm's calls under it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl.connections import Connections

from ._core.retry import RetryPolicy
from ._sending import set_retry_policy

__all__ = ["AsyncConnections", "UsingType", "async_connections", "get_client"]

UsingType: TypeAlias = "str | AsyncElasticsearch"
"""What every I/O call accepts as ``using=``: a registered alias or a client."""


class AsyncConnections(Connections[AsyncElasticsearch]):
    """Registry of async clients by alias, closed explicitly with :meth:`close`."""

    def __init__(self) -> None:
        super().__init__(elasticsearch_class=AsyncElasticsearch)
        self._replaced: list[AsyncElasticsearch] = []

    def configure(self, **kwargs: Any) -> None:
        """Set the configuration of several aliases at once; clients are built lazily.

        Example: ``async_connections.configure(default={"hosts": [url]}, logs={"hosts": [url2]})``;
        each alias's options may hold ``"retry": RetryPolicy(...)`` (see :meth:`create_connection`).
        """
        before = dict(self._conns)
        super().configure(**{alias: _client_kwargs(options) for alias, options in kwargs.items()})
        self._replaced.extend(c for a, c in before.items() if self._conns.get(a) is not c)

    def create_connection(
        self, alias: str = "default", *, retry: RetryPolicy | None = None, **kwargs: Any
    ) -> AsyncElasticsearch:
        """Build an ``AsyncElasticsearch(**kwargs)`` and register it under ``alias``.

        Args:
            retry: how odm re-sends the requests of this connection (``RetryPolicy()`` by
                default). The client's own ``max_retries`` does not apply to odm's calls:
                odm sends them with the client's retries off (docs/reliability.md).
        """
        previous = self._conns.get(alias)
        if previous is not None:
            self._replaced.append(previous)
        client = super().create_connection(alias, **_client_kwargs(kwargs))
        if retry is not None:
            set_retry_policy(client, retry)
        return client

    def add_connection(self, alias: str, conn: AsyncElasticsearch) -> None:
        """Register an existing client under ``alias``; :meth:`close` will close it."""
        previous = self._conns.get(alias)
        if previous is not None and previous is not conn:
            self._replaced.append(previous)
        super().add_connection(alias, conn)

    def remove_connection(self, alias: str) -> None:
        """Forget ``alias``; its client is kept for :meth:`close` to close.

        Raises:
            KeyError: nothing is registered under ``alias``.
        """
        client = self._conns.get(alias)
        super().remove_connection(alias)
        if client is not None:
            self._replaced.append(client)

    def aliases(self) -> list[str]:
        """The aliases that are configured or connected."""
        return sorted({*self._conns, *self._kwargs})

    async def close(self, alias: str | None = None) -> None:
        """Close the client of ``alias``, or with no alias every client, and forget them.

        The configuration given to :meth:`configure` stays, so a later
        ``get_connection`` builds a fresh client.
        """
        if alias is None:
            clients = [*self._conns.values(), *self._replaced]
            self._conns.clear()
            self._replaced.clear()
        else:
            clients = [self._conns.pop(alias)] if alias in self._conns else []
        for client in clients:
            await client.close()


def _client_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Accept what the elasticsearch-dsl page shows: ``timeout=``, and bare hosts like ``"localhost"``.

    The 9.x client calls the timeout ``request_timeout`` and wants a URL with a scheme and port.
    """
    kwargs = dict(kwargs)
    if "timeout" in kwargs:
        kwargs.setdefault("request_timeout", kwargs["timeout"])
        del kwargs["timeout"]
    hosts = kwargs.get("hosts")
    if isinstance(hosts, str):
        hosts = [hosts]
    if isinstance(hosts, list):
        kwargs["hosts"] = [_host_url(host) if isinstance(host, str) else host for host in hosts]
    return kwargs


def _host_url(host: str) -> str:
    if "://" in host:
        return host
    return f"http://{host}" if ":" in host else f"http://{host}:9200"


async_connections = AsyncConnections()


def get_client(using: UsingType = "default") -> AsyncElasticsearch:
    """The client for ``using``: a registered alias, or a client passed through as-is."""
    return async_connections.get_connection(using)

