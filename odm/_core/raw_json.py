"""Undecoded JSON responses, so that hits can be validated straight from the bytes.

The client decodes every response with the serializer registered for its content
type. Parsing a 1,000-hit page to dicts and validating those costs more than
validating the bytes in pydantic-core directly (``docs/performance.md``), so for
the searches that can use it, `odm` asks for the body undecoded. It does so by
wrapping the client's JSON serializers once (the approach the client's maintainers
suggest for raw bodies): the wrapper decodes exactly as before, except inside
:func:`raw_json_responses` in the task that entered it, where a successful body is
returned as :class:`RawJson`. Other requests, other tasks (sniffing runs in its
own) and error bodies are decoded as usual, so exceptions keep their parsed bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

from elastic_transport import Serializer

__all__ = ["RawJson", "accepts_raw_json", "raw_json_responses"]

# An Elasticsearch error body always starts with its "error" object.
_ERROR_PREFIX = b'{"error":'

_raw_for: ContextVar[asyncio.Task[Any] | None] = ContextVar("odm_raw_json_for", default=None)


class RawJson(bytes):
    """A JSON response body as Elasticsearch sent it, not decoded."""


class _PassThroughJson(Serializer):
    """Decodes like ``decoder``, but hands over the bytes when the current task asked for them."""

    mimetype: ClassVar[str] = "application/json"

    def __init__(self, decoder: Serializer) -> None:
        self.decoder = decoder

    def loads(self, data: bytes) -> Any:
        wanted = _raw_for.get()
        if wanted is not None and wanted is _current_task() and not data.startswith(_ERROR_PREFIX):
            return RawJson(data)
        return self.decoder.loads(data)

    def dumps(self, data: Any) -> bytes:
        return self.decoder.dumps(data)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


def accepts_raw_json(client: Any) -> bool:
    """Wrap the JSON serializers of ``client``'s transport (once); False if it has none."""
    collection = getattr(getattr(client, "transport", None), "serializers", None)
    serializers = getattr(collection, "serializers", None)
    if not isinstance(serializers, dict):
        return False
    for mimetype, serializer in serializers.items():
        if mimetype.endswith("/json") or mimetype.endswith("+json"):
            if not isinstance(serializer, _PassThroughJson):
                serializers[mimetype] = _PassThroughJson(serializer)
    return True


@contextlib.contextmanager
def raw_json_responses() -> Iterator[None]:
    """Within this block, successful JSON responses to this task arrive as :class:`RawJson`."""
    token = _raw_for.set(_current_task())
    try:
        yield
    finally:
        _raw_for.reset(token)
