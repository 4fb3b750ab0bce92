"""How odm sends a request: once per attempt, again only under odm's :class:`~odm.RetryPolicy`.

Two layers below odm re-send requests it cannot see: the client retries connection
errors and 429/502/503/504 answers (``max_retries``), and aiohttp sends a GET, HEAD,
PUT or DELETE again, once, when a kept-alive connection breaks (even with
``max_retries=0``). So odm sends every request with the client's retries off, and
every write as a POST, which aiohttp never re-sends: ``POST /{index}/_doc/{id}``,
``POST /{index}/_create/{id}``, ``POST /{index}/_update/{id}``, ``POST /_bulk``, and
a delete, which has no POST form, as a one-item ``POST /_bulk``. The requests that have
no POST form at all (creating an index, ``put_settings``) are why odm also turns
aiohttp's re-send off on the sessions of the client's aiohttp nodes
(:func:`_no_hidden_resends`). Then :func:`send` is the only place a request is sent
again, and it counts the sends (``Attempts``): an answer met after a send that got no
answer may be the request meeting its own first attempt (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from elastic_transport import AiohttpHttpNode, ApiResponse, TransportError
from elasticsearch import ApiError, AsyncElasticsearch, ConflictError, NotFoundError
from elasticsearch.exceptions import HTTP_EXCEPTIONS
from pydantic_core import to_json

from ._core.retry import Attempts, Retry, RetryPolicy
from .errors import ArgumentError, OutcomeUnknownError

__all__ = [
    "bulk_request",
    "checked_policy",
    "close_context",
    "delete_document",
    "index_document",
    "retry_policy_of",
    "send",
    "send_not_idempotent",
    "send_write",
    "set_retry_policy",
    "update_document",
    "without_client_retries",
]

R = TypeVar("R")
_DEFAULT_POLICY = RetryPolicy()
_policies: weakref.WeakKeyDictionary[AsyncElasticsearch, RetryPolicy] = weakref.WeakKeyDictionary()
_quiet: weakref.WeakKeyDictionary[AsyncElasticsearch, AsyncElasticsearch] = weakref.WeakKeyDictionary()
_JSON = {"accept": "application/json", "content-type": "application/json"}
_NDJSON = {"accept": "application/json", "content-type": "application/x-ndjson"}


def checked_policy(policy: object, taker: str = "retry=") -> RetryPolicy:
    """``policy``, checked to be a :class:`RetryPolicy` (the one check of every ``retry=`` and ``retry()``).

    Raises:
        ArgumentError: another value; ``taker`` names what was given it (``"retry()"``).
    """
    if not isinstance(policy, RetryPolicy):
        raise ArgumentError(f"{taker} takes a RetryPolicy, not {type(policy).__name__}")
    return policy


def set_retry_policy(client: AsyncElasticsearch, policy: RetryPolicy) -> None:
    """Make ``policy`` the retry policy of odm's calls through ``client``."""
    _policies[client] = checked_policy(policy)


def retry_policy_of(client: AsyncElasticsearch, retry: RetryPolicy | None = None) -> RetryPolicy:
    """The policy of a call: ``retry`` if given, else the connection's, else ``RetryPolicy()``."""
    if retry is not None:
        return checked_policy(retry)
    return _policies.get(client, _DEFAULT_POLICY)


def _no_hidden_resends(client: AsyncElasticsearch) -> None:
    """Turn off aiohttp's own re-send of an idempotent request (GET, HEAD, PUT, DELETE) on a
    kept-alive connection that broke, for every aiohttp node of ``client``.

    aiohttp (3.10 and later) keeps that choice in ``ClientSession._retry_connection``;
    elastic_transport makes each node's session at its first request, so odm makes it
    here when it is not made yet. A broken connection then reaches :func:`send` as a
    connection error, which the policy re-sends, counted. With an aiohttp that has no
    such flag nothing is changed (``tests/unit/test_sending.py`` checks the installed one has it).
    The client's own requests (sent by your code) go through the same sessions: the client's
    ``max_retries`` then re-sends them after such an error, as it does for a POST.
    """
    for node in client.transport.node_pool.all():
        if not isinstance(node, AiohttpHttpNode):
            continue
        if node.session is None:
            node._create_aiohttp_session()
        if getattr(node.session, "_retry_connection", False):
            node.session._retry_connection = False  # type: ignore[union-attr]


def without_client_retries(client: AsyncElasticsearch) -> AsyncElasticsearch:
    """``client`` with its own retries off (connection errors, 429/502/503/504, timeouts): odm's to decide."""
    quiet = _quiet.get(client)
    if quiet is None:
        quiet = _quiet[client] = client.options(max_retries=0, retry_on_status=(), retry_on_timeout=False)
    return quiet


async def send(
    client: AsyncElasticsearch,
    request: Callable[[AsyncElasticsearch], Awaitable[R]],
    retry: RetryPolicy | None = None,
    attempts: Attempts | None = None,
    resend_unanswered: bool = True,
) -> R:
    """Send ``request`` and, under the retry policy, send it again: odm's only re-sends.

    ``request`` is given the client with its own retries off, and must send in a form
    aiohttp does not re-send by itself when it is a write (POST). ``attempts`` (kept by
    the caller) counts the sends and those that got no answer: an answer after one of
    them (a 409, a 404) may be the request meeting its own first attempt. A bulk passes
    the same ``attempts`` to each request of one chunk, so the policy bounds them all.
    ``resend_unanswered=False``: a request that is not idempotent (a scroll page, a by-query
    request) is sent again only after an answer that refused it (429, 503), never after one
    that got no answer (it may have been applied).

    Raises:
        The last attempt's error: the policy does not retry it, or the attempts or the
        deadline ran out.
    """
    policy = retry_policy_of(client, retry)
    quiet = without_client_retries(client)
    _no_hidden_resends(client)
    tally = attempts if attempts is not None else Attempts()
    loop = asyncio.get_running_loop()
    earlier: list[Exception] = []
    while True:
        if tally.started is None:
            tally.started = loop.time()
        tally.sent += 1
        try:
            return await request(quiet)
        except (ApiError, TransportError) as error:
            tally.failed(error)
            if not resend_unanswered and tally.lost is error:
                raise
            delay = policy.next_delay(tally, error, loop.time())
            if delay is None:
                if isinstance(error, TransportError):
                    _keep_causes(error, earlier)
                raise
            earlier.append(error)
            if policy.on_retry is not None:
                policy.on_retry(Retry(tally.sent, error, delay, not isinstance(error, ApiError)))
            await asyncio.sleep(delay)



def _keep_causes(error: TransportError, earlier: list[Exception]) -> None:
    """Fill ``error.errors`` as the client's own retries do (most recent first).

    With the client's retries off its transport raises a connection error with no
    ``errors``, and such an error's text is then only "TLS error" or "Connection error":
    the cause (``CERTIFICATE_VERIFY_FAILED``, the refused port) would be hidden.
    """
    if error.errors:
        return
    cause = error.__cause__ or error.__context__
    error.errors = tuple(([cause] if isinstance(cause, Exception) else []) + earlier[::-1])


async def send_write(
    client: AsyncElasticsearch,
    request: Callable[[AsyncElasticsearch], Awaitable[R]],
    retry: RetryPolicy | None,
    index: str,
    doc_id: str | None,
    attempts: Attempts | None = None,
    idempotent: bool = True,
    operation: str | None = None,
) -> R:
    """:func:`send` a write of one stored document; a refusal after a lost answer is :class:`OutcomeUnknownError`.

    A conflict on a first attempt is a conflict (the client's ``ConflictError``, raised).
    After a send that got no answer, any refusal but a 404 (a conflict: the ``seq_no`` its
    own first attempt moved; a 429 or 503 once the policy gives up) may follow its own
    applied first attempt: its outcome is unknown, never reported as refused. (A 404 is
    the caller's to read: a delete's is confirmed by absence.) ``idempotent=False`` (a
    scripted update: ``views += 1`` twice is not once) is never sent again after an
    attempt that got no answer. ``operation`` names a write that is not of a document
    (``"creation"`` of an index, ``doc_id`` ``None``) in the error.
    """
    if not idempotent:
        return await send_not_idempotent(client, request, retry, index, "scripted update", doc_id)
    tally = attempts if attempts is not None else Attempts()
    try:
        return await send(client, request, retry, tally)
    except ApiError as error:
        if tally.resent_after_lost_answer and not isinstance(error, NotFoundError):
            raise OutcomeUnknownError(index, doc_id, tally.sent, tally.lost, error, operation=operation) from error
        raise


async def send_not_idempotent(
    client: AsyncElasticsearch,
    request: Callable[[AsyncElasticsearch], Awaitable[R]],
    retry: RetryPolicy | None,
    index: str | Sequence[str],
    operation: str,
    doc_id: str | None = None,
) -> R:
    """:func:`send` a request that running twice would change: an update or delete by query, a scripted update.

    Sent again only after an answer that refused it (429, 503: it did not run). An
    attempt that got no answer (a connection error, a timeout) may have run, in part or
    whole, or be running still: :class:`OutcomeUnknownError`, never a second run.
    """
    tally = Attempts()
    try:
        return await send(client, request, retry, tally, resend_unanswered=False)
    except TransportError as error:
        if tally.lost is not error:
            raise
        name = index if isinstance(index, str) else ",".join(index)
        raise OutcomeUnknownError(name, doc_id, tally.sent, error, None, operation=operation) from error


async def close_context(client: AsyncElasticsearch, close: Callable[[AsyncElasticsearch], Awaitable[Any]], retry: RetryPolicy | None) -> None:
    """Close a point in time or a scroll under the policy; one that is already gone (404) is closed.

    The close is a DELETE, which aiohttp may send once more on a broken kept-alive
    connection; closing is idempotent, so an attempt that finds nothing (its own earlier
    one, or the keep-alive ran out) has closed it.
    """
    try:
        await send(client, lambda quiet: close(quiet.options(ignore_status=404)), retry)
    except NotFoundError:
        pass


# -- the POST forms of the writes -----------------------------------------------------------


async def bulk_request(client: AsyncElasticsearch, payload: bytes, params: Mapping[str, Any] | None = None) -> ApiResponse[Any]:
    """``POST /_bulk`` with NDJSON ``payload`` (the client's ``bulk()`` sends a PUT)."""
    return await client.perform_request(
        "POST", "/_bulk", params=dict(params or {}), headers=_NDJSON, body=payload, endpoint_id="bulk", path_parts={}
    )


def _path(*parts: str) -> str:
    return "/" + "/".join(urllib.parse.quote(part, safe="") for part in parts)


async def index_document(
    client: AsyncElasticsearch, index: str, doc_id: str | None, body: bytes, params: Mapping[str, Any], create: bool
) -> ApiResponse[Any]:
    """``POST /{index}/_doc/{id}`` (``_create/{id}`` for a create; ``_doc`` alone without an id)."""
    if doc_id is None:
        path, parts = _path(index, "_doc"), {"index": index}
    else:
        path, parts = _path(index, "_create" if create else "_doc", doc_id), {"index": index, "id": doc_id}
    query = {key: value for key, value in params.items() if not (create and key == "op_type")}
    return await client.perform_request(
        "POST", path, params=query, headers=_JSON, body=body, endpoint_id="create" if create else "index", path_parts=parts
    )


async def update_document(
    client: AsyncElasticsearch, index: str, doc_id: str, body: Mapping[str, Any], params: Mapping[str, Any]
) -> ApiResponse[Any]:
    """``POST /{index}/_update/{id}``, as the client's ``update()`` sends it."""
    return await client.perform_request(
        "POST", _path(index, "_update", doc_id), params=dict(params), headers=_JSON, body=dict(body),
        endpoint_id="update", path_parts={"index": index, "id": doc_id},
    )


async def delete_document(
    client: AsyncElasticsearch, index: str, doc_id: str, params: Mapping[str, Any]
) -> ApiResponse[Any]:
    """A delete as a one-item ``POST /_bulk``, answered as ``DELETE /{index}/_doc/{id}`` would be.

    DELETE has no POST form, and aiohttp re-sends a DELETE by itself. The item's answer
    becomes the response (its status and body: ``result``, ``_seq_no``, or ``error``); an
    item that failed raises the client's error for its status, as ``client.delete()`` does.
    ``refresh`` is the request's; ``routing``, ``if_seq_no`` and ``if_primary_term`` the item's.
    """
    query = {key: params[key] for key in ("refresh", "timeout", "wait_for_active_shards") if key in params}
    header = {"_index": index, "_id": doc_id, **{k: v for k, v in params.items() if k not in query}}
    raw = await bulk_request(client, to_json({"delete": header}) + b"\n", query)
    [item] = raw.body["items"]
    answer: dict[str, Any] = dict(item["delete"])
    status = int(answer.pop("status", 500))
    meta = dataclasses.replace(raw.meta, status=status)
    if status >= 300:
        body = {"error": answer["error"], "status": status} if "error" in answer else {**answer, "found": False}
        _raise_for(status, meta, body)
    return ApiResponse(body=answer, meta=meta)


def _raise_for(status: int, meta: Any, body: Any) -> None:
    """Raise the client's error for an item's status (``NotFoundError`` for 404, ...)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    message = str(error.get("type")) if isinstance(error, Mapping) else "not_found" if status == 404 else str(status)
    raise HTTP_EXCEPTIONS.get(status, ApiError)(message=message, meta=meta, body=body)
