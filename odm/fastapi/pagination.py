"""Stateless cursor pagination over ``search_after``, with signed, opaque cursors.

A page is the search's hits after the sort values of the previous page's last hit.
The cursor carries those values (base64 JSON), the time it was made, and an
HMAC-SHA256 over them and what it was taken from (the index, the query, and an
optional ``scope`` string such as a tenant), so a client can neither edit it nor
replay it elsewhere: the server keeps no state, and a cursor from one endpoint,
filter, sort or scope is refused by another, as is one older than ``max_age``
(:class:`~odm.CursorError`, answered 400).

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
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from .._core.document_options import is_document_class, options_of
from ..errors import ArgumentError, CursorError
from ..mapping import SORTABLE_TYPES
from ..search._search import AsyncSearch

__all__ = ["Page", "paginate"]

T = TypeVar("T")

Secret = str | bytes | Sequence[str | bytes]

_MIN_SECRET_BYTES = 16
# Bits per symbol, estimated from the secret itself: the lower of the entropies of its bytes and
# of the steps between neighbours. "a" * 16 has 0, "abab..." 1, "0123456789abcdef" 0.35 (its
# steps are all 1). In a million draws each, the lowest of token_bytes(16) was 3.1, of
# token_hex(16) 2.76, of token_urlsafe(12) 2.75; a token_hex(8) (64 bits) is under 2.5 one time
# in 600. A guard against placeholders, not a strength meter: "password12345678" has 2.6.
_MIN_BITS_PER_SYMBOL = 2.5
DEFAULT_MAX_AGE = timedelta(hours=24)
_MAX_CURSOR_CHARS = 4096
_MAX_SIZE = 9_999  # one more hit is fetched, and a search answers at most 10,000
_DOMAIN = b"odm.fastapi.cursor.v1"
# Fields whose values can be sorted on and can be unique (a boolean has two values, a constant_keyword one).
_TIEBREAKERS = SORTABLE_TYPES - {"boolean", "constant_keyword"}
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
    scope: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
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
        secret: the signing key, random, at least 16 bytes (``secrets.token_bytes(32)``),
            the same in every worker. A sequence signs with the first and accepts any:
            put a new key first to rotate without breaking the cursors in flight.
        tiebreaker: a unique, sortable field of the documents (see the module's docstring).
        scope: what else the cursor is bound to beyond the index and the query, such as
            the user it was served to: a cursor made with one scope is refused with
            another (or with none), even for the same search. A tenant scope's search
            (``Ticket.for_tenant(t).search()``) binds its cursors to its tenant by itself.
        max_age: how long a cursor stays usable after its page was served (24 hours
            by default); ``None`` for never expiring.

    Raises:
        CursorError: the cursor is malformed, was changed, was signed with another key,
            was made for another query, sort or scope, or is older than ``max_age``.
        ArgumentError: a short or guessable secret, a size out of range, a tiebreaker
            that cannot sort, a search with an offset or a point in time, a scope that
            is not a string, or a negative ``max_age``.
    """
    keys = _secrets(secret)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_SIZE:
        raise ArgumentError(f"size must be an int from 1 to {_MAX_SIZE}, not {size!r}")
    if scope is not None and not isinstance(scope, str):
        raise ArgumentError(f"scope must be a str or None, not {type(scope).__name__}")
    if max_age is not None and (not isinstance(max_age, timedelta) or max_age < timedelta(0)):
        raise ArgumentError(f"max_age must be a timedelta of zero or more, or None, not {max_age!r}")
    _check_tiebreaker(search, tiebreaker)
    for key in ("from", "search_after", "pit"):
        if search._extra.get(key):
            raise ArgumentError(f"paginate() takes a search without {key!r}: it sets search_after itself, statelessly")
    sorted_search = _with_tiebreaker(search, tiebreaker)
    body = sorted_search.to_dict()
    for key in _PAGING_KEYS:
        body.pop(key, None)
    origin: dict[str, Any] = {"index": sorted_search._index, "body": body}
    if scope is not None:  # absent rather than null: the cursors made before scopes keep their fingerprint
        origin["scope"] = scope
    view = search._odm_tenancy
    if view is not None and view.tenant is not None:  # a tenant scope's search: its cursors are its tenant's
        origin["tenant"] = view.tenant
    query = _canonical(origin)
    sort_length = len(body["sort"])
    if cursor is not None:
        after = _decode(cursor, query, keys, sort_length, max_age)
        sorted_search = sorted_search.extra(search_after=after)
    response = await sorted_search.extra(size=size + 1).execute()
    hits = list(response)
    if len(hits) <= size:
        return Page(items=hits, next_cursor=None)
    last = response.body["hits"]["hits"][size - 1]["sort"]
    return Page(items=hits[:size], next_cursor=_encode(last, query, keys[0]))


def _now() -> int:
    """Seconds since the epoch: the clock cursors are dated by (one place, for tests to move)."""
    return int(time.time())


# -- the cursor ------------------------------------------------------------------------------


def _encode(values: list[Any], query: bytes, key: bytes) -> str:
    payload = _canonical({"q": _fingerprint(query, key), "a": values, "t": _now()})
    return f"{_b64(payload)}.{_b64(_mac(payload, key))}"


def _decode(cursor: str, query: bytes, keys: list[bytes], sort_length: int, max_age: timedelta | None) -> list[Any]:
    """The sort values in ``cursor``, checked: signed by one of ``keys``, made for ``query``, not too old."""
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
            "foreign", "the cursor belongs to another query, sort or scope: request the first page of this one"
        )
    if max_age is not None:
        made = content.get("t")  # a cursor signed before cursors were dated has none: as old as can be
        if isinstance(made, bool) or not isinstance(made, int) or _now() - made > max_age.total_seconds():
            raise CursorError("expired", "the cursor has expired: request the first page again")
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
    for position, key in enumerate(keys):
        if _bits_per_symbol(key) < _MIN_BITS_PER_SYMBOL:
            which = "secret" if len(keys) == 1 else f"secret[{position}]"
            # The message never shows the key.
            raise ArgumentError(
                f"{which} is guessable (repeated or sequential characters): use a random key, "
                f"secrets.token_bytes(32) or secrets.token_urlsafe(32)"
            )
    return keys


def _bits_per_symbol(key: bytes) -> float:
    """The lower of the Shannon entropies of ``key``'s bytes and of the steps between them.

    An estimate from one sample, not a proof of randomness: it refuses what a person
    types as a placeholder ("a" * 16, "abababab...", "0123456789abcdef")
    and accepts what ``secrets`` makes (see ``_MIN_BITS_PER_SYMBOL``).
    """
    steps = bytes((later - earlier) % 256 for earlier, later in zip(key, key[1:]))
    return min(_entropy(key), _entropy(steps))


def _entropy(data: bytes) -> float:
    counts = Counter(data).values()
    return -sum(count / len(data) * math.log2(count / len(data)) for count in counts)


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
    if getattr(field, "name", None) not in _TIEBREAKERS:
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
