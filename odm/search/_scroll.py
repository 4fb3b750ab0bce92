"""The scroll API under odm's retry policy: the raw hits of ``AsyncSearch.scan()``.

It takes ``elasticsearch.helpers.async_scan``'s options (``scroll``, ``size``,
``preserve_order``, ``raise_on_error``, ``clear_scroll``, ``request_timeout``,
``scroll_kwargs``; the rest go to the first search) and sends each request through
:func:`~odm._sending.send`. The first search and the clear are re-sent as any read: a
re-sent first search opens a second scroll, which expires with its keep-alive. A scroll
page moves the scroll on when the node runs it, so it is re-sent only after an answer
that refused it (429, 503); after a page that got no answer the scan ends with
:class:`~odm.errors.ScrollLostError` instead of skipping that page's hits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from elastic_transport import TransportError
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import ScanError

from .._core.retry import Attempts, RetryPolicy
from .._sending import close_context, send
from ..errors import ScrollLostError

__all__ = ["scroll_hits"]

# Passed to every request of the scan, as async_scan does.
_TRANSPORT_OPTIONS = ("headers", "api_key", "http_auth", "basic_auth", "bearer_auth", "opaque_id")


async def scroll_hits(
    client: AsyncElasticsearch,
    query: Mapping[str, Any],
    index: Any,
    retry: RetryPolicy | None,
    params: Mapping[str, Any],
) -> AsyncIterator[dict[str, Any]]:
    """Every hit of ``query`` in ``index``, page by page through a scroll, as ``async_scan`` yields them.

    Raises:
        ScrollLostError: a scroll page got no answer; odm does not send it again.
        elasticsearch.helpers.ScanError: shards failed (``raise_on_error``, the default).
    """
    options = dict(params)
    scroll = options.pop("scroll", "5m")
    raise_on_error = options.pop("raise_on_error", True)
    preserve_order = options.pop("preserve_order", False)
    size = options.pop("size", 1000)
    request_timeout = options.pop("request_timeout", None)
    clear_scroll = options.pop("clear_scroll", True)
    scroll_kwargs = dict(options.pop("scroll_kwargs", None) or {})
    transport = {("basic_auth" if key == "http_auth" else key): options.pop(key) for key in _TRANSPORT_OPTIONS if key in options}
    if request_timeout is not None:
        transport["request_timeout"] = request_timeout
    scoped = client.options(**transport) if transport else client
    body = {**query, "size": size}
    if not preserve_order:
        body["sort"] = "_doc"
    response = await send(scoped, lambda quiet: quiet.search(index=index, body=body, scroll=scroll, **options), retry)
    scroll_id: str | None = response.get("_scroll_id")
    yielded = 0
    try:
        while scroll_id and response["hits"]["hits"]:
            for hit in response["hits"]["hits"]:
                yielded += 1
                yield hit
            shards = response["_shards"]
            if shards.get("successful", 0) + shards.get("skipped", 0) < shards.get("total", 0) and raise_on_error:
                raise ScanError(
                    scroll_id,
                    f"Scroll request has only succeeded on {shards.get('successful', 0)} "
                    f"(+{shards.get('skipped', 0)} skipped) shards out of {shards.get('total', 0)}.",
                )
            page, current = Attempts(), scroll_id
            try:
                response = await send(
                    scoped,
                    lambda quiet: quiet.scroll(scroll_id=current, scroll=scroll, **scroll_kwargs),
                    retry,
                    page,
                    resend_unanswered=False,
                )
            except TransportError as error:
                if page.lost is error:
                    raise ScrollLostError(index if isinstance(index, str) or index is None else ",".join(index), yielded, error) from error
                raise
            scroll_id = response.get("_scroll_id")
    finally:
        if scroll_id and clear_scroll:
            last = scroll_id
            await close_context(scoped, lambda quiet: quiet.clear_scroll(scroll_id=last), retry)
