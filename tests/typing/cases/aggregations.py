"""Typed aggregations: result types from the field expressions, and the errors mypy gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, AsyncSearch, Keyword
from odm.aggs import (
    Aggs,
    Avg,
    Cardinality,
    Composite,
    DateHistogram,
    DateHistogramSource,
    ExtendedStats,
    Filters,
    Histogram,
    Max,
    Min,
    Nested,
    Percentiles,
    Range,
    ReverseNested,
    Sources,
    Stats,
    Sum,
    Terms,
    TermsSource,
    TopHits,
    ValueCount,
)


class Variant(BaseModel):
    size: Annotated[str, Keyword()]
    stock: int = 0


class Product(AsyncDocument):
    title: str
    color: Annotated[str, Keyword()]
    price: float = 0.0
    stock: int = 0
    in_stock: bool = True
    created_at: datetime
    variants: list[Variant] = []

    class Index:
        name = "products"


class ByColor(Aggs):
    price = Avg(Product.price)
    best = TopHits(Product, size=1)
    total = Sum(Product.stock)


class BySize(Aggs):
    stock = Max(Product.variants.stock)
    back = ReverseNested(aggs=ByColor)


class Combo(Sources):
    color = TermsSource(Product.color)
    month = DateHistogramSource(Product.created_at, calendar_interval="month")


class Facets(Aggs):
    colors = Terms(Product.color, size=10, aggs=ByColor)
    stocked = Terms(Product.in_stock)
    stocks = Terms(Product.stock)
    prices = Stats(Product.price)
    spread = ExtendedStats(Product.price)
    monthly = DateHistogram(Product.created_at, calendar_interval="month")
    bands = Histogram(Product.price, interval=50)
    ranges = Range(Product.price, ranges=[{"to": 50}, {"from": 50}])
    status = Filters({"sold_out": Product.stock == 0})
    variants = Nested(Product.variants, aggs=BySize)
    latency = Percentiles(Product.price)
    distinct = Cardinality(Product.title)
    counted = ValueCount(Product.color)
    combos = Composite(Combo, size=10)
    first = Min(Product.created_at)
    cheapest = Min(Product.price)


async def results(s: AsyncSearch[Product]) -> None:
    response = await s.aggregate(Facets).execute()
    facets = response.aggs(Facets)
    reveal_type(facets)  # R: tests.typing.cases.aggregations.Facets
    reveal_type(Facets.colors)  # R: odm.aggs._buckets.Terms[str, tests.typing.cases.aggregations.ByColor]
    reveal_type(facets.colors)  # R: odm.aggs._results.TermsResult[str, tests.typing.cases.aggregations.ByColor]
    bucket = facets.colors.buckets[0]
    reveal_type(bucket.key)  # R: str
    reveal_type(bucket.doc_count)  # R: int
    reveal_type(bucket.aggs.price)  # R: float | None
    reveal_type(bucket.aggs.best)  # R: list[tests.typing.cases.aggregations.Product]
    reveal_type(bucket.aggs.total)  # R: float
    reveal_type(facets.stocked.buckets[0].key)  # R: bool
    reveal_type(facets.stocks.buckets[0].key)  # R: int
    reveal_type(facets.prices.avg)  # R: float | None
    reveal_type(facets.spread.std_deviation)  # R: float | None
    reveal_type(facets.monthly.buckets[0].key)  # R: datetime.datetime
    reveal_type(facets.bands.buckets[0].key)  # R: float
    reveal_type(facets.ranges.buckets[0].from_)  # R: float | None
    reveal_type(facets.status.buckets["sold_out"].doc_count)  # R: int
    reveal_type(facets.variants.aggs.stock)  # R: float | None
    reveal_type(facets.first)  # R: datetime.datetime | None
    reveal_type(facets.cheapest)  # R: float | None
    reveal_type(Facets.first)  # R: odm.aggs._metrics.Min[datetime.datetime]
    reveal_type(facets.variants.aggs.back.aggs.price)  # R: float | None
    reveal_type(facets.latency)  # R: dict[float, float | None]
    reveal_type(facets.distinct)  # R: int
    reveal_type(facets.counted)  # R: int
    reveal_type(facets.combos.buckets[0].key.month)  # R: datetime.datetime
    reveal_type(facets.combos.after_key)  # R: tests.typing.cases.aggregations.Combo | None
    async for page in s.composite_pages(Facets):
        reveal_type(page.combos.buckets[0].key.color)  # R: str


class Mistakes(Aggs):
    typo = Terms(Product.colour)  # E: "type[Product]" has no attribute "colour"  [attr-defined]
    text_avg = Avg(Product.title)  # E: Argument 1 to "Avg" has incompatible type "FieldExpr[str]"; expected "FieldExpr[int] | FieldExpr[float] | FieldExpr[Decimal] | FieldExpr[datetime] | FieldExpr[date] | str"  [arg-type]


def wrong_key(facets: Facets) -> None:
    if facets.colors.buckets[0].key == 3:  # E: Non-overlapping equality check (left operand type: "str", right operand type: "Literal[3]")  [comparison-overlap]
        pass


def untyped_tree(s: AsyncSearch[Product]) -> None:
    s.aggs.bucket("variants", "nested", path="variants").bucket("colors", "terms", field="variants.size")
    s.aggs["variants"]["colors"].metric("stock", "sum", field="variants.stock")
    reveal_type(s.aggs["variants"])  # R: odm.aggs._tree.BucketTree[tests.typing.cases.aggregations.Product]
