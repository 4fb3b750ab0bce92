"""HTTP/1.1 on the wire for the fault proxy: messages, bodies, Elasticsearch's error bodies.

Only what a proxy between the Elasticsearch client and a node needs: heads and bodies
read whole (``Content-Length`` or chunked), re-serialized with a ``Content-Length``, and
the answers Elasticsearch gives when it rejects work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
import struct
import urllib.parse
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("odm.testing.faults")

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
        "host",
    }
)
_HEAD_LIMIT = 1 << 20  # the most bytes of a request or response head




class _ProtocolError(Exception):
    """The peer sent something that is not HTTP/1.x as this proxy understands it."""


class _UpstreamError(Exception):
    """The node could not be reached, or closed the connection without a whole answer."""


@dataclass
class _Message:
    """A request or a response, with its body read whole and de-chunked."""

    start: str  # "POST /_bulk HTTP/1.1" or "HTTP/1.1 200 OK"
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The last value of a header (names are case-insensitive)."""
        name = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == name:
                found = value
        return found

    def without(self, *names: str) -> list[tuple[str, str]]:
        """The headers other than the hop-by-hop ones and ``names``."""
        drop = _HOP_BY_HOP.union(n.lower() for n in names)
        return [(k, v) for k, v in self.headers if k.lower() not in drop]

    def wants_close(self) -> bool:
        """Whether the sender asked to close the connection after this message."""
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.start.endswith("HTTP/1.0") or self.start.startswith("HTTP/1.0"):
            return "keep-alive" not in tokens
        return "close" in tokens


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]] | None:
    """Read a start line and headers; None at a clean end of stream before any byte."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise _ProtocolError("the connection closed in the middle of a message head") from error
    except asyncio.LimitOverrunError as error:
        raise _ProtocolError("message head too long") from error
    lines = raw.decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # tolerate stray CRLFs between messages
        lines.pop(0)
    if not lines:
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _ProtocolError(f"bad header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


async def _read_body(reader: asyncio.StreamReader, message: _Message, *, until_eof: bool) -> None:
    """Read the body by ``Transfer-Encoding: chunked``, ``Content-Length``, or (a response
    with neither) until the end of the stream."""
    encoding = (message.header("transfer-encoding") or "").lower()
    length = message.header("content-length")
    if "chunked" in encoding:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, dropped
                    pass
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        message.body = b"".join(parts)
    elif length is not None:
        try:
            size = int(length)
        except ValueError as error:
            raise _ProtocolError(f"bad Content-Length {length!r}") from error
        message.body = await reader.readexactly(size)
    elif until_eof:
        message.body = await reader.read()


def _status(start: str) -> int:
    """The status code of a response's start line."""
    try:
        return int(start.split(" ", 2)[1])
    except (IndexError, ValueError) as error:
        raise _ProtocolError(f"bad status line {start!r}") from error


def _serialize(start: str, headers: list[tuple[str, str]], body: bytes, *, length: bool = True) -> bytes:
    lines = [start, *(f"{k}: {v}" for k, v in headers)]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# -- Elasticsearch's error bodies --------------------------------------------------------

_ES_JSON = "application/vnd.elasticsearch+json;compatible-with=9"


def _error_answer(request: _Message, status: int, reason: str, error: dict[str, Any]) -> bytes:
    """An error answer as Elasticsearch sends it: JSON body, product header, same media type."""
    accept = request.header("accept") or ""
    media = _ES_JSON if "vnd.elasticsearch" in accept else "application/json"
    body = json.dumps({"error": {"root_cause": [error], **error}, "status": status}).encode()
    headers = [("X-elastic-product", "Elasticsearch"), ("content-type", media)]
    return _serialize(f"HTTP/1.1 {status} {reason}", headers, body)


def _rejected_execution(operation: str) -> dict[str, Any]:
    return {
        "type": "es_rejected_execution_exception",
        "reason": (
            f"rejected execution of {operation} on EsThreadPoolExecutor[name = odm-test/write, "
            "queue capacity = 10000, task execution EWMA = 1.2ms, active threads = 2, queued tasks = 10000]"
        ),
    }


def _unavailable_shards(index: str) -> dict[str, Any]:
    return {
        "type": "unavailable_shards_exception",
        "reason": (
            f"[{index}][0] primary shard is not active Timeout: [1m], "
            f"request: [BulkShardRequest [[{index}][0]] containing [1] requests]"
        ),
    }


def _index_of(path: str) -> str:
    """The index named first in a request path (``/posts/_doc/1`` → ``posts``)."""
    first = path.lstrip("/").split("/", 1)[0]
    return urllib.parse.unquote(first) if first and not first.startswith("_") else "index"


# -- bulk bodies -------------------------------------------------------------------------


@dataclass
class _BulkItem:
    op: str
    meta: dict[str, Any]
    lines: list[bytes]


def _parse_bulk(body: bytes) -> list[_BulkItem] | None:
    """The items of an NDJSON bulk body, or None if it is not one this proxy can split."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    items: list[_BulkItem] = []
    at = 0
    while at < len(lines):
        try:
            header = json.loads(lines[at])
        except ValueError:
            return None
        if not (isinstance(header, dict) and len(header) == 1):
            return None
        [(op, meta)] = header.items()
        if op not in ("index", "create", "update", "delete") or not isinstance(meta, dict):
            return None
        size = 1 if op == "delete" else 2
        if at + size > len(lines):
            return None
        items.append(_BulkItem(op, meta, lines[at : at + size]))
        at += size
    return items


def _rejected_item(item: _BulkItem, path: str) -> dict[str, Any]:
    info: dict[str, Any] = {"_index": item.meta.get("_index", _index_of(path))}
    if "_id" in item.meta:
        info["_id"] = item.meta["_id"]
    info["status"] = 429
    info["error"] = _rejected_execution(
        "org.elasticsearch.action.support.replication.TransportWriteAction$1/WrappedActionListener"
    )
    return {item.op: info}


# -- the proxy ---------------------------------------------------------------------------


class _Upstream:
    """One kept-alive connection to the node, opened when first needed."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes, method: str) -> _Message:
        """Send ``request`` and read the answer.

        A kept-alive connection that the node closed while idle is opened again, once:
        nothing came back on it, so the node did not take the request.

        Raises:
            _UpstreamError: the node is unreachable or did not answer whole.
        """
        try:
            head = await self._send(request, reuse=True)
            if head is None:
                head = await self._send(request, reuse=False)
            if head is None:
                raise _UpstreamError("the node closed the connection without answering")
            start, headers = head
            while _status(start) < 200:  # interim answers (100 Continue): skip
                assert self.reader is not None
                head = await _read_head(self.reader)
                if head is None:
                    raise _UpstreamError("the node closed the connection after an interim answer")
                start, headers = head
            response = _Message(start, headers)
            status = _status(start)
            bodiless = method == "HEAD" or status in (204, 304)
            framed = response.header("content-length") is not None or "chunked" in (
                response.header("transfer-encoding") or ""
            ).lower()
            if not bodiless:
                assert self.reader is not None
                await _read_body(self.reader, response, until_eof=not framed)
        except (OSError, asyncio.IncompleteReadError, _ProtocolError) as error:
            self.close()
            raise _UpstreamError(f"{type(error).__name__}: {error}") from error
        if response.wants_close() or not (bodiless or framed):
            self.close()
        return response

    async def _send(self, request: bytes, *, reuse: bool) -> tuple[str, list[tuple[str, str]]] | None:
        """Write the request and read the answer's head; None if a reused connection was dead."""
        if self.writer is not None and not reuse:
            self.close()
        reused = self.writer is not None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, limit=_HEAD_LIMIT
            )
        assert self.reader is not None
        try:
            self.writer.write(request)
            await self.writer.drain()
            head = await _read_head(self.reader)
        except ConnectionError:
            if not reused:
                raise
            head = None
        if head is None:
            self.close()
            if not reused:
                raise _UpstreamError("the node closed the connection without answering")
        return head

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
