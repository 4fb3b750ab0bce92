"""``AsyncFacetedSearch[T]``: faceted navigation over documents, with typed hits and facets.

The query, filters, aggregations and facets are elasticsearch.dsl's
``FacetedSearchBase`` and its facet classes; this module runs them through
``odm.AsyncSearch`` (so hits are ``T`` models) and reads every facet into a list of
:class:`FacetValue`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Generic, NamedTuple, cast

from elasticsearch.dsl.faceted_search_base import DateHistogramFacet as DslDateHistogramFacet
from elasticsearch.dsl.faceted_search_base import (
    Facet,
    FacetedSearchBase,
    HistogramFacet,
    NestedFacet,
    RangeFacet,
    TermsFacet,
)
from elasticsearch.dsl.query import Query
from typing_extensions import TypeVar

from .._core.document_options import is_document_class, options_of
from .._core.hits import InvalidPolicy
from .._core.retry import RetryPolicy
from .._sending import checked_policy
from ..aggs import Aggs, Terms
from ..connections import UsingType
from ..errors import AggregationResultError, ArgumentError, FacetKeyError
from ..expressions import FieldExpr
from ._response import Response
from ._search import AsyncSearch

__all__ = [
    "AsyncFacetedSearch",
    "DateHistogramFacet",
    "FacetValue",
    "FacetedResponse",
    "Facets",
    "HistogramFacet",
    "NestedFacet",
    "RangeFacet",
    "TermsFacet",
]

T = TypeVar("T", default=Any)

logger = logging.getLogger("odm")


class DateHistogramFacet(DslDateHistogramFacet[Any]):
    """elasticsearch.dsl's date histogram facet, without ``datetime.utcfromtimestamp``.

    That call is deprecated since Python 3.12 and warns on every bucket; the value is the
    same naive UTC datetime. Example: ``"month": DateHistogramFacet(field="created_at",
    calendar_interval="month")``.
    """

    def get_value(self, bucket: Any) -> Any:
        key = bucket["key"]
        if isinstance(key, datetime):
            return key
        # Elasticsearch gives key None, not 0, for 1970-01-01; milliseconds are kept.
        return datetime.fromtimestamp(int(key or 0) / 1000.0, timezone.utc).replace(tzinfo=None)

FilterValue = str | int | float | bool | date
"""A facet value to filter on: a term, a histogram or date-histogram bucket key, a range's key."""


class FacetValue(NamedTuple):
    """One bucket of a facet; unpacks as ``value, count, selected`` like elasticsearch-dsl's tuples.

    Attributes:
        value: the bucket's key: a ``str`` for a terms facet on a keyword, a number for a
            histogram, a naive UTC ``datetime`` for a date histogram (filter on it with a
            ``date``, a naive UTC or an aware ``datetime``), a range's own key.
        count: the number of matching documents in the bucket (also for a facet declared
            with ``metric=``, whose metric only orders the buckets).
        selected: whether the search filters on this value.
    """

    value: Any
    count: int  # type: ignore[assignment]  # a field, as in dsl's tuples; it shadows tuple.count()
    selected: bool


class Facets(dict[str, list[FacetValue]]):
    """The facets of a response by name, also as attributes: ``response.facets.tags``."""

    def __getattr__(self, name: str) -> list[FacetValue]:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no facet named {name!r}; the search declares {sorted(self)}") from None


class FacetedResponse(Response[T]):
    """A search response with ``facets``: every declared facet's values, in bucket order."""

    def __init__(
        self, response: Response[T], facets: Facets, query_string: str | Query | None
    ) -> None:
        super().__init__(response.search, response.body, list(response.hits), response.invalid_hits, response._on_invalid)
        self.facets = facets
        self.query_string = query_string


class AsyncFacetedSearch(FacetedSearchBase[T], Generic[T]):
    """A faceted search: declare the documents, the fields to search and the facets.

    ``index`` defaults to the documents' ``Index.name``. A subclass without a type
    argument, as in elasticsearch-dsl, is an ``AsyncFacetedSearch[Any]``. Example::

        class PostSearch(AsyncFacetedSearch[Post]):
            doc_types = [Post]
            fields = ["title^3", "body"]
            facets = {"tags": TermsFacet(field="tags")}

        response = await PostSearch("python", filters={"tags": "asyncio"}).execute()
        for post in response:  # Post
            ...
        for tag, count, selected in response.facets.tags:
            ...
    """

    doc_types: Sequence[type[T]] | None = None  # type: ignore[assignment]  # models, not dsl Documents
    using: UsingType = "default"  # type: ignore[assignment]  # an odm alias or a client
    #: What a hit that does not validate does: ``"raise"``, ``"skip"`` or ``"collect"`` (``AsyncSearch.on_invalid``).
    #: A terms facet's bucket key the field refuses: ``FacetKeyError``, or left out and logged.
    on_invalid: InvalidPolicy = "raise"
    #: The :class:`~odm.RetryPolicy` odm re-sends the search and count under (``AsyncSearch.retry``);
    #: ``None``: the connection's. The constructor's ``retry=`` sets it for one search.
    retry: RetryPolicy | None = None
    _s: AsyncSearch[T]

    def __init__(
        self,
        query: str | Query | None = None,
        filters: Mapping[str, FilterValue | Sequence[FilterValue]] | None = None,
        sort: Sequence[str] = (),
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Build the search; nothing is sent until :meth:`execute`.

        Args:
            query: the text to search for in ``fields`` (all fields when none are declared),
                or a query object.
            filters: facet name -> the value (or values) the hits must have; the other
                facets count within these filters, a facet's own filter does not narrow it.
            sort: sort keys, as ``AsyncSearch.sort()`` takes them (``"-created_at"``).
            retry: the retry policy of this search's requests, over the class's ``retry``.

        Raises:
            ArgumentError: ``filters`` names a facet the class does not declare, or
                ``retry`` is not a ``RetryPolicy``.
        """
        if retry is not None:
            self.retry = checked_policy(retry, "retry=")
        unknown = sorted(set(filters or {}) - set(self.facets))
        if unknown:
            raise ArgumentError(f"{type(self).__name__} has no facet {unknown[0]!r}; its facets are {sorted(self.facets)}")
        keys = {
            name: [_as_key(v) for v in value] if isinstance(value, (list, tuple)) else _as_key(value)
            for name, value in (filters or {}).items()
        }
        super().__init__(query, cast(Any, keys), list(sort))

    def _index_names(self) -> list[str] | None:
        if self.index is not None:
            return [self.index]
        names = [options_of(d).name for d in self.doc_types or () if is_document_class(d)]
        found = list(dict.fromkeys(name for name in names if name is not None))
        return found or None

    def search(self) -> AsyncSearch[T]:
        """The search the facets are added to; override it to add filters of your own."""
        doc_types = list(self.doc_types) if self.doc_types else None
        search = AsyncSearch(using=self.using, index=self._index_names(), doc_type=doc_types).on_invalid(self.on_invalid)
        return search if self.retry is None else search.retry(self.retry)

    def query(self, search: Any, query: str | Query) -> Any:
        """Add the query: text is matched in ``fields`` (``multi_match``), a query object is used as it is.

        (elasticsearch.dsl wraps a query object in ``multi_match`` too, which Elasticsearch
        refuses with a 400.) Override it to build the query your own way.
        """
        if isinstance(query, Query):
            return search.query(query)
        return super().query(search, query)

    async def count(self) -> int:
        """The number of matching documents, filters included."""
        return await self._s.count()

    async def execute(self) -> FacetedResponse[T]:
        """Send the search: hits are ``T`` models, ``facets`` the values of every facet.

        Raises:
            HitValidationError: a hit does not validate as its model (with ``on_invalid = "raise"``).
            FacetKeyError: a terms facet's bucket key is not a valid value of its field (with
                ``on_invalid = "raise"``; otherwise that bucket is left out and logged).
        """
        response = await self._s.execute()
        facets = Facets()
        reading = _Reading(type(self).__name__, tuple(self.doc_types or ()), self.on_invalid)
        for name, facet in self.facets.items():
            data = getattr(getattr(response.aggregations, f"_filter_{name}"), name)
            facets[name] = _values_of(reading, name, facet, data, self.filter_values.get(name, []))
        return FacetedResponse(response, facets, self._query)


def _as_key(value: Any) -> Any:
    """A date or an aware datetime as the naive UTC datetime a date-histogram bucket's key is.

    So ``filters={"month": date(2026, 11, 1)}`` marks the November bucket ``selected``.
    """
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


class _Reading(NamedTuple):
    """What reading one faceted search's facets needs: its class name, documents and policy."""

    search: str
    doc_types: tuple[Any, ...]
    on_invalid: InvalidPolicy


def _values_of(reading: _Reading, name: str, facet: Facet[Any], data: Any, selected: Sequence[Any]) -> list[FacetValue]:
    """A facet's buckets as values; a nested facet's buckets are its inner facet's.

    A terms facet on a field of the documents reads its keys through the typed buckets of
    ``odm.aggs.Terms``: the field's type (``True`` rather than ``1`` for a boolean, an enum
    member). A bucket whose key the field refuses is left out when the policy says so.
    """
    if isinstance(facet, NestedFacet):
        return _values_of(reading, name, facet._inner, data.inner, selected)
    keys = _typed_terms_keys(reading, name, facet, data)
    values = []
    for n, bucket in enumerate(data.buckets):
        if keys is None:
            value = facet.get_value(bucket)
        elif n in keys:
            value = keys[n]
        else:
            continue  # refused by the field, skipped or collected: logged by _typed_terms_keys
        values.append(FacetValue(value, int(bucket["doc_count"]), facet.is_filtered(value, list(selected))))
    return values


def _typed_terms_keys(reading: _Reading, name: str, facet: Facet[Any], data: Any) -> dict[int, Any] | None:
    """The typed key of each bucket of a terms facet on a field of the documents, by position.

    All buckets are validated in one call; only when that fails, bucket by bucket, to
    find the refused keys: each raises :class:`FacetKeyError` (policy ``"raise"``), or is
    logged and has no entry in the answer (``"skip"``, ``"collect"``).
    """
    if not isinstance(facet, TermsFacet) or not isinstance(facet._params.get("field"), str):
        return None
    field = facet._params["field"]
    keys = _terms_keys_of(reading.doc_types, field)
    if keys is None:
        return None
    raw = data.to_dict()
    try:
        result: Any = keys.from_aggregations({"terms": raw})
        return dict(enumerate(bucket.key for bucket in result.terms.buckets))
    except AggregationResultError as error:
        if not all(_is_bucket_key(path) for path in error.names):
            raise  # not about a key: the answer is not a terms aggregation's
    typed: dict[int, Any] = {}
    for n, bucket in enumerate(raw["buckets"]):
        try:
            one: Any = keys.from_aggregations({"terms": {**raw, "buckets": [bucket]}})
        except AggregationResultError as error:
            refused = FacetKeyError(reading.search, name, field, bucket.get("key"), n, error.errors)
            if reading.on_invalid == "raise":
                raise refused from error.errors
            logger.warning("%s; left out of the facet's values (on_invalid=%r)", refused, reading.on_invalid)
            continue
        typed[n] = one.terms.buckets[0].key
    return typed


def _is_bucket_key(path: str) -> bool:
    """Whether an error path of a terms result is a bucket's key (``terms.buckets[3].key``)."""
    return path.startswith("terms.buckets[") and path.endswith("].key")


@functools.lru_cache(maxsize=256)
def _terms_keys_of(doc_types: tuple[Any, ...], path: str) -> type[Aggs] | None:
    """An ``Aggs`` class reading a terms aggregation on ``path`` of the documents, if the field is known.

    ``None`` (the keys as Elasticsearch sends them) for a field typed keys would not be
    faithful to: a text field, or a keyword field of numbers (``"10"`` and ``"10.0"``).
    """
    for doc_type in doc_types:
        field: Any = doc_type
        try:
            for part in path.split("."):
                field = getattr(field, part)
        except AttributeError:
            continue
        if isinstance(field, FieldExpr):
            try:
                return type(f"{doc_type.__name__}TermsFacet", (Aggs,), {"terms": Terms(field)})
            except ArgumentError:
                return None
    return None
