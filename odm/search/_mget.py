"""An mget that can ask for vectors, which the client's ``mget()`` cannot.

Elasticsearch 9 leaves vectors out of ``_source`` unless a read asks (``_vectors``), and
takes ``_source_exclude_vectors=false`` on ``_mget``; the client's ``mget()`` has no such
parameter. With ``vectors``, the request is sent as ``mget()`` would send it, plus it.
Used by ``mget()`` of a document class and by the read-back of creates answered 409.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from elastic_transport import ApiResponse
from elasticsearch import AsyncElasticsearch

__all__ = ["send_mget"]


async def send_mget(
    client: AsyncElasticsearch,
    *,
    vectors: bool,
    index: str | None = None,
    ids: Sequence[str] | None = None,
    docs: Sequence[Mapping[str, Any]] | None = None,
    source: bool | str | None = None,
    routing: str | None = None,
) -> ApiResponse[Any]:
    """``ids`` of ``index``, or ``docs`` (each naming its ``_index``); with ``vectors``, asking for them.

    ``source`` is the ``_source`` query parameter (``False``, or field names joined by commas);
    with ``routing``, every document is looked up on that routing.
    """
    if not vectors:
        return await client.mget(index=index, ids=ids, docs=docs, source=source, routing=routing)
    params = {"_source_exclude_vectors": "false"}
    if source is not None:
        params["_source"] = str(source).lower() if isinstance(source, bool) else source
    if routing is not None:
        params["routing"] = routing
    body: dict[str, Any] = {"ids": list(ids)} if ids is not None else {"docs": list(docs or ())}
    return await client.perform_request(
        "POST",
        f"/{urllib.parse.quote(index, safe='')}/_mget" if index is not None else "/_mget",
        params=params,
        headers={"accept": "application/json", "content-type": "application/json"},
        body=body,
        endpoint_id="mget",
        path_parts={"index": index} if index is not None else {},
    )
