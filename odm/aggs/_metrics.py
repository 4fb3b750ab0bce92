"""Metric aggregations: one number (``avg``, ``sum``, ...), stats, percentiles and top hits.

A single-value metric is a plain field of its owner's result model, read from
``{"price": {"value": 12.5}}`` with ``AliasPath("price", "value")``: ``facets.price`` is
``12.5`` (``None`` when no document has a value), read in pydantic-core.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar, overload

from elasticsearch.dsl import A, Agg
from pydantic import (
    AliasPath,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.fields import FieldInfo

from .._core.hits import reader_for
from .._core.top_hits import read_top_hits, top_hits_params
from .._core.vectors import is_whole_source
from ..errors import ArgumentError, HitValidationError
from ..expressions import FieldExpr
from ._declared import Aggregation, TopHitsFailure, invalid_top_hits
from ._fields import AnyField, NumericField, value_type_of, values_path_of
from ._results import ExtendedStatsResult, StatsResult

__all__ = ["Avg", "Cardinality", "ExtendedStats", "Max", "Min", "Percentiles", "Stats", "Sum", "TopHits", "ValueCount"]

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


class _FieldMetric(Aggregation[R]):
    """A metric on one field; ``params`` go into the request as elasticsearch.dsl takes them."""

    kind: ClassVar[str]
    result_type: ClassVar[Any]

    def __init__(self, field: AnyField, **params: Any) -> None:
        self.field = values_path_of(field, type(self).__name__)
        self.params = params

    def request(self) -> Agg[Any]:
        return A(self.kind, field=self.field, **self.params)

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.result_type, Field(validation_alias=AliasPath(self.name, "value"))


class Avg(_FieldMetric["float | None"]):
    """The mean of a numeric or date field; ``None`` when no document has a value.

    Example: ``price = Avg(Product.price)``
    """

    kind = "avg"
    result_type = float | None

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)


V = TypeVar("V", float, datetime, date)


class _Extremum(_FieldMetric["V | None"], Generic[V]):
    """``min``/``max``: of a numeric field a ``float``, of a date field a ``datetime`` (or
    ``date``), read from the epoch milliseconds Elasticsearch answers; ``None`` without values."""

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)
        value_type = value_type_of(field)
        self._value_type: Any = value_type if value_type in (datetime, date) else float

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self._value_type | None, Field(validation_alias=AliasPath(self.name, "value"))


class Min(_Extremum[V]):
    """The smallest value; ``None`` without values. Of a ``datetime`` field a ``datetime``
    (aware, UTC), of a ``date`` field a ``date``, else a ``float``.

    Example: ``cheapest = Min(Product.price)``, ``first = Min(Product.created_at)``
    """

    kind = "min"

    @overload
    def __init__(self: Min[datetime], field: FieldExpr[datetime], **params: Any) -> None: ...
    @overload
    def __init__(self: Min[date], field: FieldExpr[date], **params: Any) -> None: ...
    @overload
    def __init__(self: Min[float], field: NumericField, **params: Any) -> None: ...
    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)


class Max(_Extremum[V]):
    """The largest value; ``None`` without values. Of a ``datetime`` field a ``datetime``
    (aware, UTC), of a ``date`` field a ``date``, else a ``float``.

    Example: ``dearest = Max(Product.price)``, ``last = Max(Product.created_at)``
    """

    kind = "max"

    @overload
    def __init__(self: Max[datetime], field: FieldExpr[datetime], **params: Any) -> None: ...
    @overload
    def __init__(self: Max[date], field: FieldExpr[date], **params: Any) -> None: ...
    @overload
    def __init__(self: Max[float], field: NumericField, **params: Any) -> None: ...
    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)


class Sum(_FieldMetric[float]):
    """The sum of a numeric field; ``0.0`` without values. Example: ``stock = Sum(Product.stock)``"""

    kind = "sum"
    result_type = float

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)


class Cardinality(_FieldMetric[int]):
    """The approximate number of distinct values of any field. Example: ``colors = Cardinality(Product.color)``"""

    kind = "cardinality"
    result_type = int


class ValueCount(_FieldMetric[int]):
    """The number of values of any field. Example: ``rated = ValueCount(Product.rating)``"""

    kind = "value_count"
    result_type = int


class Stats(_FieldMetric[StatsResult]):
    """``count``, ``min``, ``max``, ``avg`` and ``sum`` of a numeric field. Example: ``prices = Stats(Product.price)``"""

    kind = "stats"
    result_type = StatsResult

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.result_type, Field()


class ExtendedStats(_FieldMetric[ExtendedStatsResult]):
    """``stats`` plus variance and standard deviation. Example: ``spread = ExtendedStats(Product.price)``"""

    kind = "extended_stats"
    result_type = ExtendedStatsResult

    def __init__(self, field: NumericField, **params: Any) -> None:
        super().__init__(field, **params)

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.result_type, Field()


def _without_text_forms(values: Any) -> Any:
    # A date field's percentiles also carry "50.0_as_string" entries: the numbers are kept.
    if isinstance(values, Mapping):
        return {key: value for key, value in values.items() if not str(key).endswith("_as_string")}
    return values


class Percentiles(_FieldMetric["dict[float, float | None]"]):
    """Percentiles by percent: ``{50.0: 12.5, 99.0: 30.0}`` (``None`` without values).

    Example: ``latency = Percentiles(Request.took, percents=[50, 99])``
    """

    kind = "percentiles"
    result_type = Annotated[dict[float, float | None], BeforeValidator(_without_text_forms)]

    def __init__(self, field: NumericField, **params: Any) -> None:
        if params.get("keyed") is False:
            raise ArgumentError("Percentiles(keyed=False) is not supported: the typed result is keyed by percent")
        super().__init__(field, **params)

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        return self.result_type, Field(validation_alias=AliasPath(self.name, "values"))


class TopHits(Aggregation[list[M]], Generic[M]):
    """The best hits of each bucket, as models of ``model`` with ``meta`` (id, index, score).

    Documents also ask for their concurrency tokens, so a top hit saved back is guarded
    like any other loaded document. A top hit that does not validate follows the search's
    ``on_invalid`` policy (``Response.aggs``), named as ``Product (top hits 'best')``.
    Like a typed search, the request asks for the vectors Elasticsearch leaves out of
    ``_source`` by default, so a top hit saved back keeps them.
    Example: ``best = TopHits(Product, size=1, sort=[-Product.rating])``
    """

    def __init__(self, model: type[M], **params: Any) -> None:
        self.model = model
        self.params = params

    def request(self) -> Agg[Any]:
        # Asks for tokens and vectors as a typed search does: a top hit saved back is guarded and keeps them.
        return A("top_hits", **top_hits_params(self.params, [self.model]))

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        reader = reader_for(self.model)
        partial = not is_whole_source(self.params.get("_source"))

        def read(hits: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
            if not isinstance(hits, list):
                return handler(hits)  # pydantic's own error: not a list
            try:
                return read_top_hits(reader, hits, partial, invalid_top_hits(info.context), self.name)
            except HitValidationError as error:
                raise TopHitsFailure(error) from error

        annotation = Annotated[list[self.model], WrapValidator(read)]  # type: ignore[name-defined]
        return annotation, Field(validation_alias=AliasPath(self.name, "hits", "hits"))
