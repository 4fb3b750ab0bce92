"""A real ``AsyncElasticsearch`` whose one node answers from a test's script, not the network.

The client's whole stack runs (serializers, status handling, exceptions); only the
HTTP exchange is replaced, so unit tests see exactly what a server's bytes produce.
The client itself does not retry, so what a test counts is what odm did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from elastic_transport import ApiResponseMeta, BaseAsyncNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import AsyncElasticsearch

__all__ = ["Request", "fake_client"]

_HEADERS = {
    "content-type": "application/vnd.elasticsearch+json;compatible-with=9",
    "x-elastic-product": "Elasticsearch",
}


@dataclass
class Request:
    method: str
    target: str
    body: bytes | None

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def lines(self) -> list[Any]:
        """The request body as NDJSON lines, decoded."""
        return [orjson.loads(line) for line in (self.body or b"").splitlines()]


# A handler answers a request with (status, body): body bytes, or anything orjson encodes.
Handler = Callable[[Request], Awaitable[tuple[int, Any]]]


@dataclass
class Script:
    handler: Handler
    requests: list[Request] = field(default_factory=list)


def fake_client(handler: Handler) -> tuple[AsyncElasticsearch, list[Request]]:
    """A client answered by ``handler``, and the list of requests it receives."""
    script = Script(handler)

    class ScriptedNode(BaseAsyncNode):
        async def perform_request(  # type: ignore[override]
            self, method: str, target: str, body: bytes | None = None, headers: Any = None, **_: Any
        ) -> NodeApiResponse:
            request = Request(method, target, body)
            script.requests.append(request)
            status, payload = await script.handler(request)
            data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
            meta = ApiResponseMeta(status, "1.1", HttpHeaders(_HEADERS), 0.0, self.config)
            return NodeApiResponse(meta, data)

        async def close(self) -> None:  # type: ignore[override]  # the base declares it sync
            pass

    client = AsyncElasticsearch("http://fake.invalid:9200", node_class=ScriptedNode, max_retries=0, retry_on_status=())
    return client, script.requests
