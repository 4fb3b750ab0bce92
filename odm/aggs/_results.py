"""The result types of aggregations, as mypy sees them and as they run.

Bucket results are generic (``TermsResult[K, S]``: keys ``K``, sub-aggregations ``S``), so
they are declared here as plain classes whose attributes mypy reads from the
``TYPE_CHECKING`` block; each definition generates a pydantic model subclassing them with
the concrete field types (``_buckets.py``). Metric results of a fixed shape are plain
pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, cast

from pydantic import BaseModel
from typing_extensions import TypeVar

from ._declared import RESULT_CONFIG, Aggs, NoAggs, Sources

__all__ = [
    "Bucket",
    "CompositeResult",
    "ExtendedStatsResult",
    "FiltersResult",
    "HistogramResult",
    "KeyedBucket",
    "RangeBucket",
    "RangeResult",
    "StatsResult",
    "StdDeviationBounds",
    "TermsResult",
]

K = TypeVar("K", default=Any)
S = TypeVar("S", bound=Aggs, default=NoAggs)
C = TypeVar("C", bound=Sources)


class Bucket(Generic[S]):
    """One bucket: ``doc_count`` documents, and the sub-aggregations ``S`` as ``aggs``."""

    if TYPE_CHECKING:
        doc_count: int

    @property
    def aggs(self) -> S:
        """The bucket's sub-aggregations: the bucket itself, typed as the declared class."""
        return cast(S, self)


class KeyedBucket(Bucket[S], Generic[K, S]):
    """A bucket with a typed ``key`` (terms, histograms, composite) and its text form."""

    if TYPE_CHECKING:
        key: K
        key_as_string: str | None


class TermsResult(Generic[K, S]):
    """A ``terms`` aggregation: buckets by value, and the counts left out."""

    if TYPE_CHECKING:
        buckets: list[KeyedBucket[K, S]]
        doc_count_error_upper_bound: int
        sum_other_doc_count: int


class HistogramResult(Generic[K, S]):
    """A ``histogram`` (keys ``float``) or ``date_histogram`` (keys aware UTC ``datetime``)."""

    if TYPE_CHECKING:
        buckets: list[KeyedBucket[K, S]]


class RangeBucket(Bucket[S]):
    """A bucket of a ``range`` aggregation: its ``key`` and bounds (``from_`` is ``from``)."""

    if TYPE_CHECKING:
        key: str
        from_: float | None
        to: float | None
        from_as_string: str | None
        to_as_string: str | None


class RangeResult(Generic[S]):
    """A ``range`` aggregation: one bucket per range, in the order given."""

    if TYPE_CHECKING:
        buckets: list[RangeBucket[S]]


class FiltersResult(Generic[S]):
    """A ``filters`` aggregation: one bucket per named filter (and ``_other_`` if asked)."""

    if TYPE_CHECKING:
        buckets: dict[str, Bucket[S]]


class CompositeResult(Generic[C, S]):
    """A page of a ``composite`` aggregation: keys of the sources class ``C``.

    ``after_key`` is the key to ask for the next page from, ``None`` after the last one.
    """

    if TYPE_CHECKING:
        buckets: list[KeyedBucket[C, S]]
        after_key: C | None


class StatsResult(BaseModel):
    """A ``stats`` aggregation; ``min``/``max``/``avg`` are ``None`` when no document has a value."""

    model_config = RESULT_CONFIG

    count: int
    min: float | None
    max: float | None
    avg: float | None
    sum: float


class StdDeviationBounds(BaseModel):
    """``std_deviation_bounds`` of an ``extended_stats`` aggregation."""

    model_config = RESULT_CONFIG

    upper: float | None
    lower: float | None
    upper_population: float | None
    lower_population: float | None
    upper_sampling: float | None
    lower_sampling: float | None


class ExtendedStatsResult(StatsResult):
    """An ``extended_stats`` aggregation: ``stats`` plus variance and standard deviation."""

    sum_of_squares: float | None
    variance: float | None
    variance_population: float | None
    variance_sampling: float | None
    std_deviation: float | None
    std_deviation_population: float | None
    std_deviation_sampling: float | None
    std_deviation_bounds: StdDeviationBounds
