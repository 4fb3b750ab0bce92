"""Bucket aggregations (terms, histograms, ranges, filters, single-bucket, composite).

Each definition generates, on first use, the pydantic model of its result: a bucket
model subclasses the result model of its sub-aggregations class ``S`` (so
``bucket.aggs`` is the bucket itself, typed ``S``) and adds the bucket's own fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, cast

from elasticsearch.dsl import A, Agg
from elasticsearch.dsl.query import Query
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo
from typing_extensions import TypeVar

from ..errors import ArgumentError
from ..expressions import FieldExpr
from ._declared import RESULT_CONFIG, Aggregation, Aggs, NoAggs, Source, Sources
from ._fields import AnyField, NumericField, key_type_of, path_of, values_path_of
from ._results import (
    Bucket,
    CompositeResult,
    FiltersResult,
    HistogramResult,
    KeyedBucket,
    RangeBucket,
    RangeResult,
    TermsResult,
)

__all__ = [
    "Composite",
    "DateHistogram",
    "DateHistogramSource",
    "Filter",
    "Filters",
    "Histogram",
    "HistogramSource",
    "Nested",
    "Range",
    "ReverseNested",
    "Terms",
    "TermsSource",
]

K = TypeVar("K", default=Any)
R = TypeVar("R")
S = TypeVar("S", bound=Aggs, default=NoAggs)
C = TypeVar("C", bound=Sources)



def _absent_is_none(alias: str | None = None) -> FieldInfo:
    """A key Elasticsearch leaves out when it has no value (``key_as_string``, ``to``)."""
    return cast(FieldInfo, Field(default=None, alias=alias))


_KEY_AS_STRING = (str | None, _absent_is_none())


def _title(owner: str, suffix: str) -> str:
    """A model name for the OpenAPI schema: ``Facets.colors`` -> ``FacetsColorsBucket``."""
    return "".join(part[:1].upper() + part[1:] for part in owner.replace("_", ".").split(".")) + suffix


def _model(title: str, bases: tuple[type, ...], fields: dict[str, tuple[Any, FieldInfo]]) -> type[BaseModel]:
    namespace: dict[str, Any] = {name: info for name, (_, info) in fields.items()}
    namespace["__annotations__"] = {name: annotation for name, (annotation, _) in fields.items()}
    namespace["__module__"] = __name__
    if bases[0] is BaseModel:
        namespace["model_config"] = RESULT_CONFIG
    return type(title, bases, namespace)


class _BucketAggregation(Aggregation[R]):
    """A bucket aggregation with sub-aggregations ``aggs`` (an :class:`Aggs` class)."""

    kind: ClassVar[str]

    def __init__(self, aggs: type[Aggs] | None, params: dict[str, Any]) -> None:
        if aggs is not None and not (isinstance(aggs, type) and issubclass(aggs, Aggs)):
            raise ArgumentError(f"aggs= takes an Aggs class, not {aggs!r}")
        if params.get("keyed"):
            raise ArgumentError(f"{type(self).__name__}(keyed=True) is not supported: the typed buckets are a list")
        self.aggs: type[Aggs] = aggs if aggs is not None else NoAggs
        self.params = params

    def request(self) -> Agg[Any]:
        return A(self.kind, **self.with_subs(self.params))

    def with_subs(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` plus the sub-aggregations, if any."""
        subs = self.aggs.requests()
        return {**params, "aggs": subs} if subs else params

    def bucket_model(self, owner: str, base: type, fields: dict[str, tuple[Any, FieldInfo]]) -> type[BaseModel]:
        """The model of one bucket: the sub-aggregations' result model plus ``fields``."""
        return _model(_title(owner, "Bucket"), (self.aggs.result_model(), base), fields)


class Terms(_BucketAggregation["TermsResult[K, S]"], Generic[K, S]):
    """Buckets by the values of a field; keys typed by the field (``str``, ``int``, ``bool``, ...).

    Example: ``colors = Terms(Product.color, size=10, aggs=ByColor)``
    """

    kind = "terms"

    def __init__(self, field: FieldExpr[K] | str, *, aggs: type[S] | None = None, **params: Any) -> None:
        super().__init__(aggs, {"field": values_path_of(field, "Terms"), **params})
        self.key_type = key_type_of(field, "Terms")

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        bucket = self.bucket_model(owner, KeyedBucket, {"key": (self.key_type, Field()), "doc_count": (int, Field()), "key_as_string": _KEY_AS_STRING})
        result = _model(
            _title(owner, "Terms"),
            (BaseModel, TermsResult),
            {"buckets": (list[bucket], Field()), "doc_count_error_upper_bound": (int, Field()), "sum_other_doc_count": (int, Field())},  # type: ignore[valid-type]
        )
        return result, Field()


class _Histogram(_BucketAggregation[R]):
    key_type: ClassVar[Any]

    def __init__(self, field: AnyField, aggs: type[Aggs] | None, params: dict[str, Any]) -> None:
        super().__init__(aggs, {"field": path_of(field), **params})

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        bucket = self.bucket_model(owner, KeyedBucket, {"key": (self.key_type, Field()), "doc_count": (int, Field()), "key_as_string": _KEY_AS_STRING})
        result = _model(_title(owner, "Histogram"), (BaseModel, HistogramResult), {"buckets": (list[bucket], Field())})  # type: ignore[valid-type]
        return result, Field()


class Histogram(_Histogram["HistogramResult[float, S]"], Generic[S]):
    """Buckets of a fixed numeric ``interval``; keys are ``float``.

    Example: ``by_price = Histogram(Product.price, interval=50)``
    """

    kind = "histogram"
    key_type = float

    def __init__(self, field: NumericField, *, aggs: type[S] | None = None, **params: Any) -> None:
        super().__init__(field, aggs, params)


class DateHistogram(_Histogram["HistogramResult[datetime, S]"], Generic[S]):
    """Buckets of a calendar or fixed interval; keys are aware UTC ``datetime``.

    Example: ``monthly = DateHistogram(Product.created_at, calendar_interval="month")``
    """

    kind = "date_histogram"
    key_type = datetime

    def __init__(self, field: NumericField, *, aggs: type[S] | None = None, **params: Any) -> None:
        super().__init__(field, aggs, params)


class Range(_BucketAggregation["RangeResult[S]"], Generic[S]):
    """One bucket per range (``from`` included, ``to`` excluded), each with its ``key``.

    Example: ``price_bands = Range(Product.price, ranges=[{"to": 50}, {"from": 50, "key": "dear"}])``
    """

    kind = "range"

    def __init__(self, field: NumericField, *, ranges: list[dict[str, Any]], aggs: type[S] | None = None, **params: Any) -> None:
        super().__init__(aggs, {"field": path_of(field), "ranges": ranges, **params})

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        bucket = self.bucket_model(
            owner,
            RangeBucket,
            {
                "key": (str, Field()),
                "doc_count": (int, Field()),
                "from_": (float | None, _absent_is_none("from")),
                "to": (float | None, _absent_is_none()),
                "from_as_string": (str | None, _absent_is_none()),
                "to_as_string": (str | None, _absent_is_none()),
            },
        )
        result = _model(_title(owner, "Range"), (BaseModel, RangeResult), {"buckets": (list[bucket], Field())})  # type: ignore[valid-type]
        return result, Field()


class Filters(_BucketAggregation["FiltersResult[S]"], Generic[S]):
    """One bucket per named query. Example: ``status = Filters({"sold_out": Product.stock == 0, ...})``"""

    kind = "filters"

    def __init__(self, filters: Mapping[str, Query], *, aggs: type[S] | None = None, **params: Any) -> None:
        if not isinstance(filters, Mapping):
            raise ArgumentError("Filters() takes named filters, a mapping of name -> query")
        super().__init__(aggs, {"filters": dict(filters), **params})

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        bucket = self.bucket_model(owner, Bucket, {"doc_count": (int, Field())})
        result = _model(_title(owner, "Filters"), (BaseModel, FiltersResult), {"buckets": (dict[str, bucket], Field())})  # type: ignore[valid-type]
        return result, Field()


class _SingleBucket(_BucketAggregation["Bucket[S]"], Generic[S]):
    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.bucket_model(owner, Bucket, {"doc_count": (int, Field())}), Field()


class Filter(_SingleBucket[S]):
    """One bucket of the documents a query matches. Example: ``red = Filter(Product.color == "red", aggs=ByColor)``"""

    kind = "filter"

    def __init__(self, query: Query, *, aggs: type[S] | None = None) -> None:
        super().__init__(aggs, {})
        self.query = query

    def request(self) -> Agg[Any]:
        return A("filter", self.query, **self.with_subs({}))


class Nested(_SingleBucket[S]):
    """One bucket of the nested objects at ``path``. Example: ``variants = Nested(Product.variants, aggs=ByVariant)``"""

    kind = "nested"

    def __init__(self, path: AnyField, *, aggs: type[S] | None = None) -> None:
        super().__init__(aggs, {"path": path_of(path)})


class ReverseNested(_SingleBucket[S]):
    """Back from nested objects to their documents (or to ``path``), inside a :class:`Nested`.

    Example: ``products = ReverseNested(aggs=ByProduct)``
    """

    kind = "reverse_nested"

    def __init__(self, path: AnyField | None = None, *, aggs: type[S] | None = None) -> None:
        super().__init__(aggs, {} if path is None else {"path": path_of(path)})


# -- composite ------------------------------------------------------------------------


class Composite(_BucketAggregation["CompositeResult[C, S]"], Generic[C, S]):
    """Every combination of the ``sources``' values, a page at a time; keys typed by ``C``.

    Example: ``combos = Composite(ColorMonth, size=100)``; all pages: ``s.composite_pages(Facets)``.
    """

    kind = "composite"

    def __init__(
        self, sources: type[C], *, aggs: type[S] | None = None, after: Mapping[str, Any] | None = None, **params: Any
    ) -> None:
        if not (isinstance(sources, type) and issubclass(sources, Sources)):
            raise ArgumentError(f"Composite() takes a Sources class, not {sources!r}")
        super().__init__(aggs, params)
        self.sources = sources
        self.after = after

    def request(self, after: Mapping[str, Any] | None = None) -> Agg[Any]:
        """The request; ``after`` (a raw ``after_key``) asks for the page after it."""
        after = after if after is not None else self.after
        sources = [{name: source.request()} for name, source in self.sources.__definitions__.items()]
        params: dict[str, Any] = {"sources": sources, **self.params}
        if after is not None:
            params["after"] = dict(after)
        return A("composite", **self.with_subs(params))

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        key = self.sources.result_model()
        bucket = self.bucket_model(owner, KeyedBucket, {"key": (key, Field()), "doc_count": (int, Field())})
        result = _model(
            _title(owner, "Composite"),
            (BaseModel, CompositeResult),
            {"buckets": (list[bucket], Field()), "after_key": (key | None, _absent_is_none())},  # type: ignore[valid-type]
        )
        return result, Field()


class _Source(Source[R]):
    kind: ClassVar[str]
    key_type: Any

    def __init__(self, field: AnyField, params: dict[str, Any]) -> None:
        if params.get("missing_bucket"):  # the key of documents without a value would be None
            raise ArgumentError(f"{type(self).__name__}(missing_bucket=True) is not supported: its keys would be None")
        self.params = {"field": path_of(field), **params}

    def request(self) -> Agg[Any]:
        return A(self.kind, **self.params)

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.key_type, Field()


class TermsSource(_Source[K], Generic[K]):
    """A composite source of a field's values; typed by the field. Example: ``color = TermsSource(Product.color)``"""

    kind = "terms"

    def __init__(self, field: FieldExpr[K] | str, **params: Any) -> None:
        super().__init__(values_path_of(field, "TermsSource"), params)
        self.key_type = key_type_of(field, "TermsSource")


class HistogramSource(_Source[float]):
    """A composite source of numeric intervals. Example: ``band = HistogramSource(Product.price, interval=50)``"""

    kind = "histogram"
    key_type = float

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, params)


class DateHistogramSource(_Source[datetime]):
    """A composite source of date intervals (aware UTC keys).

    Example: ``month = DateHistogramSource(Product.created_at, calendar_interval="month")``
    """

    kind = "date_histogram"
    key_type = datetime

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, params)
