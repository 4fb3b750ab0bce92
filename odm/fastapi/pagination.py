"""Stateless cursor pagination over ``search_after``, with signed, opaque cursors.

A page is the search's hits after the sort values of the previous page's last hit.
The cursor carries those values (base64 JSON) and an HMAC-SHA256 over them and the
query, so a client can neither edit it nor replay it against another query: the
server keeps no state, and a cursor from one endpoint, filter or sort is refused by
another (:class:`~odm.CursorError`, answered 400).

The tiebreaker. ``search_after`` needs a total order: two hits with equal sort values
on a page boundary would be skipped or repeated. Sorting on ``_id`` would give one,
but Elasticsearch 9 refuses it unless ``indices.id_field_data.enabled`` is set (a
deprecated setting that loads every id into heap). ``_shard_doc`` is unique only inside
one point in time, and a point in time is server state (search contexts kept on every
shard per client pagination, expiring under a reader who pauses; opened for every first
page, a client requesting first pages in a loop would pile them up). So
:func:`paginate` asks for a **unique field** of the documents, ``tiebreaker="slug"``, a
``keyword`` (or numeric, date, ``ip``) field with doc values, and appends it to the
sort: each document should carry its id there (a slug, a UUID).
odm cannot check uniqueness; a duplicated value only risks a hit on a page boundary.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .._core.document_options import is_document_class, options_of
from ..errors import ArgumentError, CursorError
from ..search._search import AsyncSearch

__all__ = ["Page", "paginate"]

T = TypeVar("T")

Secret = str | bytes | Sequence[str | bytes]

_MIN_SECRET_BYTES = 16
_MAX_CURSOR_CHARS = 4096
_MAX_SIZE = 9_999  # one more hit is fetched, and a search answers at most 10,000
_DOMAIN = b"odm.fastapi.cursor.v1"
# Fields whose values can be sorted on and can be unique.
_SORTABLE = frozenset(
    {"keyword", "long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float",
     "scaled_float", "date", "date_nanos", "ip", "version"}
)
# Body keys that change from page to page, or only the page's length: not part of the query.
_PAGING_KEYS = ("size", "from", "search_after")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of :func:`paginate`.

    Attributes:
        items: up to ``size`` hits, in the search's order (the search's models).
        next_cursor: the cursor of the next page, or ``None`` when this is the last.
    """

    items: list[T]
    next_cursor: str | None


async def paginate(
    search: AsyncSearch[T],
    cursor: str | None = None,
    *,
    size: int = 20,
    secret: Secret,
    tiebreaker: str,
) -> Page[T]:
    """The page of ``search`` after ``cursor`` (the first page without one).

    Example::

        page = await paginate(Post.search().filter(...).sort("-published"), cursor,
                              size=20, secret=SECRET, tiebreaker="slug")

    The search's sort (by default ``_score``, descending) gets ``tiebreaker``
    ascending appended, unless it already sorts on it. One hit more than ``size`` is
    fetched, so ``next_cursor`` is ``None`` exactly on the last page.

    Args:
        cursor: ``next_cursor`` of the previous page, as the client sent it back.
        size: hits per page, 1 to 9,999; bound it in the endpoint (``Query(le=100)``).
        secret: the signing key, at least 16 bytes (``secrets.token_bytes(32)``), the
            same in every worker. A sequence signs with the first and accepts any:
            put a new key first to rotate without breaking the cursors in flight.
        tiebreaker: a unique, sortable field of the documents (see the module's docstring).

    Raises:
        CursorError: the cursor is malformed, was changed, was signed with another key,
            or was made for another query or sort.
        ArgumentError: a short secret, a size out of range, a tiebreaker that cannot
            sort, or a search with an offset or a point in time.
    """
    keys = _secrets(secret)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_SIZE:
        raise ArgumentError(f"size must be an int from 1 to {_MAX_SIZE}, not {size!r}")
    _check_tiebreaker(search, tiebreaker)
    for key in ("from", "search_after", "pit"):
        if search._extra.get(key):
            raise ArgumentError(f"paginate() takes a search without {key!r}: it sets search_after itself, statelessly")
    sorted_search = _with_tiebreaker(search, tiebreaker)
    body = sorted_search.to_dict()
    for key in _PAGING_KEYS:
        body.pop(key, None)
    query = _canonical({"index": sorted_search._index, "body": body})
    sort_length = len(body["sort"])
    if cursor is not None:
        after = _decode(cursor, query, keys, sort_length)
        sorted_search = sorted_search.extra(search_after=after)
    response = await sorted_search.extra(size=size + 1).execute()
    hits = list(response)
    if len(hits) <= size:
        return Page(items=hits, next_cursor=None)
    last = response.body["hits"]["hits"][size - 1]["sort"]
    return Page(items=hits[:size], next_cursor=_encode(last, query, keys[0]))


# -- the cursor ------------------------------------------------------------------------------


def _encode(values: list[Any], query: bytes, key: bytes) -> str:
    payload = _canonical({"q": _fingerprint(query, key), "a": values})
    return f"{_b64(payload)}.{_b64(_mac(payload, key))}"


def _decode(cursor: str, query: bytes, keys: list[bytes], sort_length: int) -> list[Any]:
    """The sort values in ``cursor``, checked: signed by one of ``keys``, made for ``query``."""
    if not isinstance(cursor, str) or len(cursor) > _MAX_CURSOR_CHARS or cursor.count(".") != 1:
        raise CursorError("malformed", "the cursor is malformed: pass back next_cursor exactly as it was received")
    encoded_payload, encoded_mac = cursor.split(".")
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except (binascii.Error, ValueError):
        raise CursorError("malformed", "the cursor is malformed: it is not base64") from None
    key = next((key for key in keys if hmac.compare_digest(mac, _mac(payload, key))), None)
    if key is None:
        raise CursorError(
            "tampered", "the cursor was changed, or signed with another key: request the first page again"
        )
    try:
        content = json.loads(payload)
    except ValueError:
        raise CursorError("malformed", "the cursor is malformed: its content is not JSON") from None
    values = content.get("a") if isinstance(content, dict) else None
    if not isinstance(values, list) or not all(_is_sort_value(value) for value in values):
        raise CursorError("malformed", "the cursor is malformed: it holds no sort values")
    if content.get("q") != _fingerprint(query, key) or len(values) != sort_length:
        raise CursorError(
            "foreign", "the cursor belongs to another query or sort: request the first page of this one"
        )
    return values


def _fingerprint(query: bytes, key: bytes) -> str:
    # Keyed, so the cursor does not let a client confirm a guess of the query's hidden filters.
    return hmac.new(key, b"query\x00" + query, hashlib.sha256).hexdigest()[:32]


def _mac(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + b"\x00" + payload, hashlib.sha256).digest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not ASCII")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _is_sort_value(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


# -- arguments --------------------------------------------------------------------------------


def _secrets(secret: Secret) -> list[bytes]:
    given = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    keys = [key.encode() if isinstance(key, str) else bytes(key) for key in given]
    if not keys or any(len(key) < _MIN_SECRET_BYTES for key in keys):
        raise ArgumentError(
            f"secret must be at least {_MIN_SECRET_BYTES} bytes (secrets.token_bytes(32)), and one at least"
        )
    return keys


def _check_tiebreaker(search: AsyncSearch[Any], tiebreaker: str) -> None:
    if tiebreaker in ("_id", "_doc", "_shard_doc", "_score"):
        raise ArgumentError(
            f"tiebreaker={tiebreaker!r} cannot be used: name a unique keyword field of the documents "
            f"(sorting on _id needs fielddata, _doc and _shard_doc are not stable across requests)"
        )
    models = [model for model in search._doc_type if is_document_class(model)]
    if len(models) != 1:
        return  # raw hits or several classes: Elasticsearch judges the field
    field = options_of(models[0]).mapping.resolve_field(tiebreaker)
    if field is None:
        raise ArgumentError(f"tiebreaker={tiebreaker!r} is not a field of {models[0].__name__}")
    if getattr(field, "name", None) not in _SORTABLE:
        raise ArgumentError(
            f"tiebreaker={tiebreaker!r} is a {getattr(field, 'name', '?')} field; it must be keyword, "
            f"numeric, date or ip (sortable, and unique per document)"
        )


def _with_tiebreaker(search: AsyncSearch[T], tiebreaker: str) -> AsyncSearch[T]:
    keys = [_sort_key(entry) for entry in search._sort]
    if tiebreaker in keys:
        return search
    if not keys:
        return search.sort({"_score": {"order": "desc"}}, {tiebreaker: {"order": "asc"}})
    return search.sort(*search._sort, {tiebreaker: {"order": "asc"}})


def _sort_key(entry: Any) -> str:
    if isinstance(entry, str):
        return entry.lstrip("-")
    if isinstance(entry, dict) and entry:
        return str(next(iter(entry)))
    return str(entry)
