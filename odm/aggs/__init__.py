"""Typed aggregations: declare them as a class, read the response into that class.

Example::

    class ByColor(Aggs):
        price = Avg(Product.price)              # float | None

    class Facets(Aggs):
        colors = Terms(Product.color, aggs=ByColor)
        prices = Stats(Product.price)

    response = await Product.search().aggregate(Facets).execute()
    facets = response.aggs(Facets)
    for bucket in facets.colors.buckets:       # bucket.key: str, bucket.doc_count: int
        print(bucket.key, bucket.doc_count, bucket.aggs.price)

See ``docs/aggregations.md``; the design is in ``docs/aggregations-design.md``.
"""

from ._buckets import (
    Composite,
    DateHistogram,
    DateHistogramSource,
    Filter,
    Filters,
    Histogram,
    HistogramSource,
    Nested,
    Range,
    ReverseNested,
    Terms,
    TermsSource,
)
from ._declared import Aggregation, Aggs, NoAggs, Source, Sources
from ._metrics import Avg, Cardinality, ExtendedStats, Max, Min, Percentiles, Stats, Sum, TopHits, ValueCount
from ._results import (
    Bucket,
    CompositeResult,
    ExtendedStatsResult,
    FiltersResult,
    HistogramResult,
    KeyedBucket,
    RangeBucket,
    RangeResult,
    StatsResult,
    StdDeviationBounds,
    TermsResult,
)

__all__ = [
    "Aggregation",
    "Aggs",
    "Avg",
    "Bucket",
    "Cardinality",
    "Composite",
    "CompositeResult",
    "DateHistogram",
    "DateHistogramSource",
    "ExtendedStats",
    "ExtendedStatsResult",
    "Filter",
    "Filters",
    "FiltersResult",
    "Histogram",
    "HistogramResult",
    "HistogramSource",
    "KeyedBucket",
    "Max",
    "Min",
    "Nested",
    "NoAggs",
    "Percentiles",
    "Range",
    "RangeBucket",
    "RangeResult",
    "ReverseNested",
    "Source",
    "Sources",
    "Stats",
    "StatsResult",
    "StdDeviationBounds",
    "Sum",
    "Terms",
    "TermsResult",
    "TermsSource",
    "TopHits",
    "ValueCount",
]
