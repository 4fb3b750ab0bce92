"""A fault-injecting HTTP proxy: put it between a client and Elasticsearch to test retries.

``FaultProxy`` listens on 127.0.0.1 and forwards HTTP/1.1 requests to an upstream
Elasticsearch, except when one of its faults fires. Each fault mimics something a real
cluster or network does, with Elasticsearch's own error bodies, so a client sees what it
would see in production:

================================ ===================================================
fault                            what the client sees / what the node did
================================ ===================================================
:class:`Reject429`               429 ``es_rejected_execution_exception``; not forwarded
:class:`Unavailable503`          503 ``unavailable_shards_exception``; not forwarded
:class:`RejectBulkItems`         a ``_bulk`` answer in which some items are 429
                                 ``es_rejected_execution_exception``; those items were
                                 removed from the request, so the node never saw them
:class:`ResetBeforeForwarding`   a connection reset; the node never saw the request
:class:`ResetAfterForwarding`    a connection reset; the node **applied** the request
:class:`Stall`                   no answer for ``seconds`` (past the client's timeout),
                                 then the connection closes; forwarded by default
:class:`Latency`                 the answer, ``seconds`` later (adds to other faults)
================================ ===================================================

Example::

    async with FaultProxy(node_url, seed=7, faults=[Reject429(probability=0.2)]) as proxy:
        client = AsyncElasticsearch(proxy.url, max_retries=0)
        ...
        assert proxy.stats.injected["reject_429"] > 0

Only the standard library (asyncio streams) is used. Bodies are read whole (by
``Content-Length`` or chunked) and sent on with a ``Content-Length``; connections are
kept alive on both sides. The random draws come from one ``random.Random(seed)`` in the
order requests arrive, so a run whose requests arrive in the same order (one at a time,
say) meets the same faults.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import random
import ssl
import urllib.parse
from typing import Any

from odm.testing._fault_kinds import (
    Fault,
    FaultKind,
    FaultStats,
    Injection,
    Latency,
    Reject429,
    RejectBulkItems,
    ResetAfterForwarding,
    ResetBeforeForwarding,
    Stall,
    Unavailable503,
)
from odm.testing._proxy_wire import (
    _ES_JSON,
    _HEAD_LIMIT,
    _error_answer,
    _index_of,
    _Message,
    _parse_bulk,
    _ProtocolError,
    _read_body,
    _read_head,
    _rejected_execution,
    _rejected_item,
    _reset,
    _serialize,
    _status,
    _unavailable_shards,
    _Upstream,
    _UpstreamError,
)

__all__ = [
    "Fault",
    "FaultKind",
    "FaultProxy",
    "FaultStats",
    "Injection",
    "Latency",
    "Reject429",
    "RejectBulkItems",
    "ResetAfterForwarding",
    "ResetBeforeForwarding",
    "Stall",
    "Unavailable503",
]

logger = logging.getLogger(__name__)




class FaultProxy:
    """An HTTP/1.1 proxy to ``upstream`` (an Elasticsearch URL) that injects ``faults``.

    Use it as an async context manager; ``url`` is where clients connect::

        async with FaultProxy(es_url, seed=1, faults=[ResetAfterForwarding(count=1, path=r"/_bulk$")]) as proxy:
            client = AsyncElasticsearch(proxy.url, max_retries=0)
            result = await Post.bulk(posts, using=client)
            await client.close()
        print(proxy.stats.summary())

    Args:
        upstream: the node's base URL; ``http://user:pass@host:9200/prefix`` works
            (credentials are added to requests that carry none), and ``https`` with
            ``upstream_tls`` (by default the system's trusted certificates).
        faults: the faults, tried in order for each request; ``proxy.faults`` can be
            replaced between phases of a test (the counts start again).
        seed: the seed of the random draws; the same seed and the same order of
            requests give the same faults (None: seeded from the OS, not reproducible).
        host, port: where to listen (port 0: the OS picks a free one).
    """

    def __init__(
        self,
        upstream: str,
        *,
        faults: list[Fault] | tuple[Fault, ...] = (),
        seed: int | str | None = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_tls: ssl.SSLContext | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) URL, not {upstream!r}")
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = upstream_tls or (ssl.create_default_context() if parts.scheme == "https" else None)
        host_header = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self._host_header = host_header if parts.port is None else f"{host_header}:{parts.port}"
        self._prefix = parts.path.rstrip("/")
        self._authorization: str | None = None
        if parts.username is not None:
            userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._authorization = "Basic " + base64.b64encode(userinfo.encode()).decode()
        self._listen = (host, port)
        self._random = random.Random(seed)
        self._faults: tuple[Fault, ...] = tuple(faults)
        self._fired: list[int] = [0] * len(self._faults)
        self.stats = FaultStats()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._url: str | None = None

    # -- life cycle --

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        if self._url is None:
            raise RuntimeError("the proxy is not started: use `async with FaultProxy(...) as proxy`")
        return self._url

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The faults in force; assign a new list to change them (their counts start again)."""
        return self._faults

    @faults.setter
    def faults(self, faults: list[Fault] | tuple[Fault, ...]) -> None:
        self._faults = tuple(faults)
        self._fired = [0] * len(self._faults)

    async def start(self) -> None:
        """Listen; ``url`` is then set."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, *self._listen, limit=_HEAD_LIMIT)
        host, port = self._server.sockets[0].getsockname()[:2]
        self._url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening and drop every connection (stalled ones included)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- one connection --

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.stats.connections += 1
        upstream = _Upstream(self._upstream_host, self._upstream_port, self._tls)
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    break
                request = _Message(*head)
                if (request.header("expect") or "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await _read_body(reader, request, until_eof=False)
                if not await self._handle(request, writer, upstream):
                    break
        except asyncio.CancelledError:
            # Only stop() cancels these tasks. End normally: the server's done-callback calls
            # task.exception(), which raises (and logs) on a cancelled task before Python 3.12.
            _reset(writer)
        except _UpstreamError as error:  # the client sees a reset, as it would from a dead node
            self.stats.errors.append(f"upstream: {error}")
            logger.warning("fault proxy: upstream: %s", error)
            _reset(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except (_ProtocolError, ValueError, OSError) as error:
            self.stats.errors.append(f"{type(error).__name__}: {error}")
            logger.warning("fault proxy: %s", error)
            _reset(writer)
        finally:
            upstream.close()
            writer.close()
            self._connections.discard(task)

    async def _handle(self, request: _Message, writer: asyncio.StreamWriter, upstream: _Upstream) -> bool:
        """Answer one request, or not; return whether the client connection stays open."""
        method, target = request.start.split(" ", 2)[:2]
        method = method.upper()
        path, _, query = target.partition("?")
        self.stats.requests += 1
        self.stats.received[(method, path)] += 1
        number = self.stats.requests
        delay, fault, position = self._draw(method, path, query, number)
        if delay:
            await asyncio.sleep(delay)
        if isinstance(fault, Reject429):
            writer.write(_error_answer(request, 429, "Too Many Requests", _rejected_execution("coordinating operation")))
        elif isinstance(fault, Unavailable503):
            writer.write(_error_answer(request, 503, "Service Unavailable", _unavailable_shards(_index_of(path))))
        elif isinstance(fault, ResetBeforeForwarding):
            _reset(writer)
            return False
        elif isinstance(fault, RejectBulkItems):
            answer = await self._bulk_with_rejections(request, method, target, path, fault, (number, position), upstream)
            writer.write(answer)
        else:
            if isinstance(fault, Stall) and not fault.forward:
                await asyncio.sleep(fault.seconds)
                return False  # closed without an answer
            response = await self._forward(request, method, target, request.body, upstream)
            if isinstance(fault, ResetAfterForwarding):
                _reset(writer)
                return False
            if isinstance(fault, Stall):
                await asyncio.sleep(fault.seconds)
                return False  # closed without an answer
            writer.write(self._answer(response, method))
        await writer.drain()
        return not request.wants_close()

    def _draw(self, method: str, path: str, query: str, number: int) -> tuple[float, Fault | None, int]:
        """The delay, the deciding fault and its place in ``faults`` for one request, drawn in
        order from the seeded RNG."""
        delay = 0.0
        for position, fault in enumerate(self._faults):
            if not fault.matches(method, path, query):
                continue
            if fault.count is not None and self._fired[position] >= fault.count:
                continue
            if self._random.random() >= fault.probability:
                continue
            if isinstance(fault, RejectBulkItems):  # counted once it has chosen items
                return delay, fault, position
            self._fired[position] += 1
            self._record(number, fault, method, path)
            if isinstance(fault, Latency):
                delay += fault.seconds + (self._random.uniform(0.0, fault.jitter) if fault.jitter else 0.0)
                continue
            return delay, fault, position
        return delay, None, -1

    def _record(self, number: int, fault: Fault, method: str, path: str, items: tuple[int, ...] = ()) -> None:
        self.stats.injected[fault.kind] += 1
        self.stats.events.append(Injection(number, fault.kind, method, path, items))

    async def _forward(
        self, request: _Message, method: str, target: str, body: bytes, upstream: _Upstream, *, plain: bool = False
    ) -> _Message:
        """Send the request on to the node (``body`` in place of its own) and read the answer.

        ``plain``: the body was decoded, so the request goes without ``Content-Encoding``.
        """
        headers = request.without(*(("content-encoding",) if plain else ()))
        headers.insert(0, ("Host", self._host_header))
        if self._authorization is not None and request.header("authorization") is None:
            headers.append(("Authorization", self._authorization))
        framed = request.header("content-length") is not None or request.header("transfer-encoding") is not None
        raw = _serialize(f"{method} {self._prefix}{target} HTTP/1.1", headers, body, length=bool(body) or framed)
        self.stats.forwarded += 1
        self.stats.reached[(method, target.partition("?")[0])] += 1
        return await upstream.exchange(raw, method)

    def _answer(self, response: _Message, method: str) -> bytes:
        """The node's answer as sent on to the client (de-chunked, with a Content-Length)."""
        status = _status(response.start)
        if method == "HEAD" or status in (204, 304):
            length = response.header("content-length")
            headers = response.without() + ([("Content-Length", length)] if length is not None else [])
            return _serialize(response.start, headers, b"", length=False)
        return _serialize(response.start, response.without(), response.body)

    async def _bulk_with_rejections(
        self,
        request: _Message,
        method: str,
        target: str,
        path: str,
        fault: RejectBulkItems,
        place: tuple[int, int],
        upstream: _Upstream,
    ) -> bytes:
        """Forward the ``_bulk`` request without some items, and answer them 429 in place.

        ``place``: the request's number on the proxy and the fault's position in ``faults``.
        """
        number, position = place
        body = request.body
        compressed = (request.header("content-encoding") or "").lower() == "gzip"
        if compressed:
            body = gzip.decompress(body)
        items = _parse_bulk(body)
        if not items:  # not a body this proxy can split: forwarded untouched, nothing injected
            return self._answer(await self._forward(request, method, target, request.body, upstream), method)
        chosen = {n for n in range(len(items)) if self._random.random() < fault.item_probability}
        if not chosen:  # nothing to reject: an ordinary request, and the fault did not fire
            return self._answer(await self._forward(request, method, target, request.body, upstream), method)
        rejected = tuple(sorted(chosen))
        kept = [item for n, item in enumerate(items) if n not in chosen]
        answered: list[Any] = []
        response: _Message | None = None
        if kept:
            kept_body = b"".join(line + b"\n" for item in kept for line in item.lines)
            response = await self._forward(request, method, target, kept_body, upstream, plain=compressed)
            status = _status(response.start)
            decoded = response.body
            if (response.header("content-encoding") or "").lower() == "gzip":
                decoded = gzip.decompress(decoded)
            try:
                parsed = json.loads(decoded) if status == 200 else None
            except ValueError:
                parsed = None
            if not (isinstance(parsed, dict) and len(parsed.get("items", ())) == len(kept)):
                # The whole request failed (or answered strangely): the client sees that answer,
                # which covers every item, the removed ones included. Nothing was injected.
                if status == 200:
                    self.stats.errors.append(f"request {number}: a _bulk answer without one item per action")
                return self._answer(response, method)
            answered = list(parsed["items"])
        else:
            parsed = {"errors": True, "took": 0}
        merged: list[Any] = []
        for n, item in enumerate(items):
            merged.append(_rejected_item(item, path) if n in chosen else answered.pop(0))
        parsed["items"] = merged
        parsed["errors"] = True
        self._fired[position] += 1
        self.stats.rejected_items += len(rejected)
        self._record(number, fault, method, path, rejected)
        out = json.dumps(parsed, separators=(",", ":")).encode()
        if response is None:
            accept = request.header("accept") or ""
            media = _ES_JSON if "vnd.elasticsearch" in accept else "application/json"
            headers = [("X-elastic-product", "Elasticsearch"), ("content-type", media)]
            return _serialize("HTTP/1.1 200 OK", headers, out)
        return _serialize(response.start, response.without("content-encoding"), out)
