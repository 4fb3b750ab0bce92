"""Typed aggregations on the real node: every kind, values and exact types, sub-aggregations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AggregationResultError, ArgumentError, AsyncDocument, AsyncFacetedSearch, AsyncSearch, Double, Keyword, TermsFacet
from odm.aggs import (
    Aggs,
    Avg,
    Cardinality,
    Composite,
    DateHistogram,
    DateHistogramSource,
    ExtendedStats,
    ExtendedStatsResult,
    Filter,
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
    StatsResult,
    Sum,
    Terms,
    TermsSource,
    TopHits,
    ValueCount,
)
from odm.testing.isolation import isolated
from tests.models.aggs_shop import Item, Kind, Variant

UTC = timezone.utc

ROWS: list[dict[str, Any]] = [
    dict(color="red", kind=Kind.SHIRT, price=10.0, stock=5, in_stock=True, created_at=datetime(1969, 12, 15, tzinfo=UTC), variants=[Variant(size="S", stock=2), Variant(size="M", stock=3)]),
    dict(color="red", kind=Kind.HAT, price=30.0, stock=0, in_stock=False, created_at=datetime(1970, 1, 1, tzinfo=UTC), variants=[Variant(size="S", stock=0)]),
    dict(color="blue", kind=Kind.SHIRT, price=50.0, stock=7, in_stock=True, created_at=datetime(1970, 1, 20, tzinfo=UTC), variants=[Variant(size="L", stock=7)]),
    dict(color="blue", kind=Kind.SHIRT, price=70.0, stock=1, in_stock=True, created_at=datetime(2026, 11, 3, tzinfo=UTC), variants=[]),
    dict(color="green", kind=Kind.HAT, price=90.0, stock=2, in_stock=True, created_at=datetime(2026, 11, 20, tzinfo=UTC), variants=[Variant(size="M", stock=2)]),
    dict(color="red", kind=Kind.SHIRT, price=110.0, stock=3, in_stock=True, created_at=datetime(2026, 12, 1, tzinfo=UTC), variants=[Variant(size="S", stock=1), Variant(size="L", stock=2)]),
]


@pytest.fixture
async def items(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Item]:
    bound = isolated(Item, index_prefix)
    await bound.init()
    for n, row in enumerate(ROWS, start=1):
        await bound(title=f"item {n}", meta={"id": str(n)}, **row).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


class ByColor(Aggs):
    price = Avg(Item.price)
    best = TopHits(Item, size=1, sort=[{"price": "desc"}])


class Parents(Aggs):
    price = Avg(Item.price)


class BySize(Aggs):
    stock = Sum(Item.variants.stock)
    parents = ReverseNested(aggs=Parents)


class InVariants(Aggs):
    sizes = Terms(Item.variants.size, order={"_key": "asc"}, aggs=BySize)


class Buckets(Aggs):
    colors = Terms(Item.color, aggs=ByColor)
    kinds = Terms(Item.kind)
    stocked = Terms(Item.in_stock)
    stocks = Terms(Item.stock, order={"_key": "asc"})
    bands = Histogram(Item.price, interval=50)
    monthly = DateHistogram(Item.created_at, calendar_interval="month", min_doc_count=1)
    ranges = Range(Item.price, ranges=[{"to": 50}, {"from": 50, "to": 100}, {"from": 100, "key": "dear"}])
    status = Filters({"sold_out": Item.stock == 0, "cheap": Item.price < 40}, aggs=Parents)
    shirts = Filter(Item.kind == Kind.SHIRT, aggs=Parents)
    variants = Nested(Item.variants, aggs=InVariants)


class Metrics(Aggs):
    avg = Avg(Item.price)
    total = Sum(Item.stock)
    cheapest = Min(Item.price)
    dearest = Max(Item.price)
    first = Min(Item.created_at)
    prices = Stats(Item.price)
    spread = ExtendedStats(Item.price)
    median = Percentiles(Item.price, percents=[50])
    median_date = Percentiles(Item.created_at, percents=[50])
    colors = Cardinality(Item.color)
    counted = ValueCount(Item.color)
    top = TopHits(Item, size=2, sort=[{"price": "desc"}])


async def test_terms_keys_are_typed_by_the_field_with_sub_aggregations(items: type[Item]) -> None:
    response = await items.search().aggregate(Buckets).execute()
    found = response.aggs(Buckets)
    assert isinstance(found, Buckets)

    colors = [(b.key, b.doc_count, b.aggs.price) for b in found.colors.buckets]
    assert colors == [("red", 3, 50.0), ("blue", 2, 60.0), ("green", 1, 90.0)]
    assert type(found.colors.buckets[0].key) is str
    assert type(found.colors.buckets[0].doc_count) is int
    assert type(found.colors.buckets[0].aggs.price) is float
    assert found.colors.sum_other_doc_count == 0
    best = found.colors.buckets[0].aggs.best
    assert [type(m) for m in best] == [Item] and best[0].meta.id == "6" and best[0].price == 110.0
    assert best[0].meta.index == items.index_name()
    assert isinstance(found.colors.buckets[0].aggs, ByColor)

    assert [(b.key, b.doc_count) for b in found.kinds.buckets] == [(Kind.SHIRT, 4), (Kind.HAT, 2)]
    assert type(found.kinds.buckets[0].key) is Kind

    assert [(b.key, b.doc_count, b.key_as_string) for b in found.stocked.buckets] == [(True, 5, "true"), (False, 1, "false")]
    assert type(found.stocked.buckets[0].key) is bool

    assert [b.key for b in found.stocks.buckets] == [0, 1, 2, 3, 5, 7]
    assert {type(b.key) for b in found.stocks.buckets} == {int}


async def test_histograms_ranges_and_filters(items: type[Item]) -> None:
    found = (await items.search().aggregate(Buckets).execute()).aggs(Buckets)

    assert [(b.key, b.doc_count) for b in found.bands.buckets] == [(0.0, 2), (50.0, 3), (100.0, 1)]
    assert {type(b.key) for b in found.bands.buckets} == {float}

    months = [(b.key, b.doc_count) for b in found.monthly.buckets]
    assert months == [
        (datetime(1969, 12, 1, tzinfo=UTC), 1),  # before 1970: a negative epoch-millisecond key
        (datetime(1970, 1, 1, tzinfo=UTC), 2),  # the epoch itself: key 0
        (datetime(2026, 11, 1, tzinfo=UTC), 2),
        (datetime(2026, 12, 1, tzinfo=UTC), 1),
    ]
    first = found.monthly.buckets[0].key
    assert type(first) is datetime and first.utcoffset() == timedelta(0)
    assert found.monthly.buckets[1].key_as_string == "1970-01-01T00:00:00.000Z"

    ranges = [(b.key, b.from_, b.to, b.doc_count) for b in found.ranges.buckets]
    assert ranges == [("*-50.0", None, 50.0, 2), ("50.0-100.0", 50.0, 100.0, 3), ("dear", 100.0, None, 1)]

    assert found.status.buckets["sold_out"].doc_count == 1
    assert found.status.buckets["cheap"].doc_count == 2
    assert found.status.buckets["cheap"].aggs.price == 20.0
    assert found.shirts.doc_count == 4 and found.shirts.aggs.price == 60.0


async def test_nested_and_reverse_nested(items: type[Item]) -> None:
    found = (await items.search().aggregate(Buckets).execute()).aggs(Buckets)
    assert found.variants.doc_count == 7
    sizes = [
        (b.key, b.doc_count, b.aggs.stock, b.aggs.parents.doc_count, b.aggs.parents.aggs.price)
        for b in found.variants.aggs.sizes.buckets
    ]
    # (size, variants, their stock, items that have one, those items' mean price)
    assert sizes == [("L", 2, 9.0, 2, 80.0), ("M", 2, 5.0, 2, 50.0), ("S", 3, 3.0, 3, 50.0)]
    assert type(found.variants.aggs.sizes.buckets[0].aggs.parents.doc_count) is int


async def test_metrics(items: type[Item]) -> None:
    found = (await items.search().aggregate(Metrics).execute()).aggs(Metrics)
    assert (found.avg, found.total, found.cheapest, found.dearest) == (60.0, 18.0, 10.0, 110.0)
    assert {type(v) for v in (found.avg, found.total, found.cheapest, found.dearest)} == {float}
    assert found.first == datetime(1969, 12, 15, tzinfo=UTC) and type(found.first) is datetime  # before 1970 too
    assert type(found.prices) is StatsResult
    assert (found.prices.count, found.prices.min, found.prices.max, found.prices.avg, found.prices.sum) == (6, 10.0, 110.0, 60.0, 360.0)
    assert type(found.spread) is ExtendedStatsResult
    assert found.spread.variance == pytest.approx(sum((p - 60.0) ** 2 for p in (10, 30, 50, 70, 90, 110)) / 6)
    assert found.spread.std_deviation_bounds.upper is not None
    assert list(found.median) == [50.0] and type(found.median[50.0]) is float
    assert 30.0 <= (found.median[50.0] or 0) <= 70.0
    assert list(found.median_date) == [50.0]  # the "50.0_as_string" entry of a date field is left out
    assert (found.colors, found.counted) == (3, 6)
    assert type(found.colors) is int and type(found.counted) is int
    assert [(type(m), m.meta.id, m.price) for m in found.top] == [(Item, "6", 110.0), (Item, "5", 90.0)]
    assert found.top[0].meta.seq_no is not None  # concurrency tokens, so a save is guarded


async def test_metrics_without_values_are_none(items: type[Item]) -> None:
    search = items.search().filter(Item.price > 1000).aggregate(Metrics)
    found = (await search.execute()).aggs(Metrics)
    assert (found.avg, found.cheapest, found.dearest, found.total) == (None, None, None, 0.0)
    assert (found.prices.count, found.prices.min, found.prices.avg) == (0, None, None)
    assert found.median == {50.0: None}
    assert (found.colors, found.counted, found.top) == (0, 0, [])


async def test_an_empty_index_still_answers_every_aggregation(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    bound = isolated(Item, index_prefix)
    await bound.init()
    found = (await bound.search().aggregate(Buckets).execute()).aggs(Buckets)
    assert found.colors.buckets == [] and found.monthly.buckets == [] and found.variants.doc_count == 0


async def test_an_aggregation_the_search_did_not_ask_for_is_an_error(items: type[Item]) -> None:
    response = await items.search().execute()
    with pytest.raises(AggregationResultError, match=r"Buckets\.colors is missing from the response") as caught:
        response.aggs(Buckets)
    assert "colors" in caught.value.names and caught.value.aggregations == "Buckets"

    class Renamed(Aggs):
        colours = Terms(Item.color)

    response = await items.search().aggregate(Buckets).execute()
    with pytest.raises(AggregationResultError, match=r"Renamed\.colours is missing"):
        response.aggs(Renamed)


class Combo(Sources):
    color = TermsSource(Item.color)
    month = DateHistogramSource(Item.created_at, calendar_interval="month")


class Combos(Aggs):
    combos = Composite(Combo, size=2, aggs=Parents)


async def test_composite_pages_to_the_end(items: type[Item]) -> None:
    pages = [page async for page in items.search().composite_pages(Combos)]
    assert [len(page.combos.buckets) for page in pages] == [2, 2, 2]
    keys = [(b.key.color, b.key.month, b.doc_count) for page in pages for b in page.combos.buckets]
    assert keys == [
        ("blue", datetime(1970, 1, 1, tzinfo=UTC), 1),
        ("blue", datetime(2026, 11, 1, tzinfo=UTC), 1),
        ("green", datetime(2026, 11, 1, tzinfo=UTC), 1),
        ("red", datetime(1969, 12, 1, tzinfo=UTC), 1),
        ("red", datetime(1970, 1, 1, tzinfo=UTC), 1),
        ("red", datetime(2026, 12, 1, tzinfo=UTC), 1),
    ]
    assert isinstance(pages[0].combos.buckets[0].key, Combo)
    after = pages[0].combos.after_key
    assert after is not None and (after.color, after.month) == ("blue", datetime(2026, 11, 1, tzinfo=UTC))
    assert pages[0].combos.buckets[0].aggs.price == 50.0


async def test_one_composite_page_and_its_after_key(items: type[Item]) -> None:
    response = await items.search().extra(size=0).aggregate(Combos).execute()
    first = response.aggs(Combos)
    raw_after = response.body["aggregations"]["combos"]["after_key"]

    class Next(Aggs):
        combos = Composite(Combo, size=2, after=raw_after)

    following = (await items.search().extra(size=0).aggregate(Next).execute()).aggs(Next)
    assert [b.key.color for b in first.combos.buckets] == ["blue", "blue"]
    assert [b.key.color for b in following.combos.buckets] == ["green", "red"]


async def test_the_untyped_dsl_api_keeps_working(items: type[Item]) -> None:
    s = items.search().aggregate(Buckets)
    s.aggs["variants"]["sizes"].metric("most", "max", field="variants.stock")
    response = await s.execute()
    assert [b.key for b in response.aggregations.colors.buckets] == ["red", "blue", "green"]
    assert response.aggregations.colors.buckets[0].price.value == 50.0
    sizes = {b.key: b.most.value for b in response.aggregations.variants.sizes.buckets}
    assert sizes == {"L": 7.0, "M": 3.0, "S": 2.0}
    assert response.aggs(Buckets).variants.aggs.sizes.buckets[0].key == "L"  # the extra metric is ignored


async def test_untyped_search_reads_typed_aggregations(items: type[Item]) -> None:
    response = await AsyncSearch(index=items.index_name()).aggregate(Metrics).execute()
    found = response.aggs(Metrics)
    assert found.total == 18.0 and [m.meta.id for m in found.top] == ["6", "5"]


class Priced(AsyncDocument):
    price: Annotated[float, Double(fields={"raw": Keyword()})] = 0.0

    class Index:
        name = "aggs-priced"


class RawPrices(Aggs):
    raw = Terms("price.raw")  # a plain path: the keys as Elasticsearch sends them


def test_terms_on_a_keyword_sub_field_of_numbers_is_refused_never_read_as_numbers() -> None:
    """Read as ``float`` (the parent's type), ``"10"`` and ``"10.0"`` would be two buckets with one key."""
    with pytest.raises(ArgumentError, match=r"Terms\(Priced\.price\.raw\): price\.raw is a keyword field of float values"):
        Terms(Priced.price.raw)
    with pytest.raises(ArgumentError, match="TermsSource"):
        TermsSource(Priced.price.raw)


async def test_terms_keys_of_a_keyword_sub_field_by_path_are_its_strings(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    priced = isolated(Priced, index_prefix)
    await priced.init()
    await priced(price=10.0).save()
    await odm_client.index(index=priced.index_name(), document={"price": 10}, refresh=True)  # another program
    found = (await priced.search().aggregate(RawPrices).execute()).aggs(RawPrices)
    keys: list[Any] = [b.key for b in found.raw.buckets]
    assert sorted(keys) == ["10", "10.0"]


async def test_a_terms_facet_on_a_keyword_sub_field_of_numbers_gives_the_keys_as_sent(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    priced = isolated(Priced, index_prefix)
    await priced.init()
    await priced(price=10.0).save()
    await odm_client.index(index=priced.index_name(), document={"price": 10}, refresh=True)  # another program

    class PriceSearch(AsyncFacetedSearch[Priced]):
        doc_types = [priced]
        facets = {"raw": TermsFacet(field="price.raw")}

    values = (await PriceSearch().execute()).facets["raw"]
    assert sorted(v.value for v in values) == ["10", "10.0"] and [v.count for v in values] == [1, 1]
