"""Typed aggregations without a server: request bodies, result models, and clear errors."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

import orjson
import pytest
from pydantic import BaseModel, TypeAdapter

from odm import AggregationResultError, ArgumentError, AsyncDocument, AsyncSearch, HitValidationError, InvalidHit, Keyword, Text
from odm.aggs import (
    Aggs,
    Avg,
    Cardinality,
    Composite,
    DateHistogram,
    DateHistogramSource,
    ExtendedStats,
    Filter,
    Filters,
    Histogram,
    HistogramSource,
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
from odm.aggs._pages import composite_of
from tests.models.aggs_shop import Item, Kind


class Parents(Aggs):
    price = Avg(Item.price)


class Combo(Sources):
    color = TermsSource(Item.color)
    band = HistogramSource(Item.price, interval=50)
    month = DateHistogramSource(Item.created_at, calendar_interval="month")


def body_of(aggs: type[Aggs]) -> dict[str, Any]:
    return Item.search().aggregate(aggs).to_dict()["aggs"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (Avg(Item.price), {"avg": {"field": "price"}}),
        (Sum(Item.stock, missing=0), {"sum": {"field": "stock", "missing": 0}}),
        (Min(Item.created_at), {"min": {"field": "created_at"}}),
        (Max(Item.price), {"max": {"field": "price"}}),
        (Stats(Item.price), {"stats": {"field": "price"}}),
        (ExtendedStats(Item.price), {"extended_stats": {"field": "price"}}),
        (Percentiles(Item.price, percents=[50, 99]), {"percentiles": {"field": "price", "percents": [50, 99]}}),
        (Cardinality(Item.color), {"cardinality": {"field": "color"}}),
        (ValueCount(Item.kind), {"value_count": {"field": "kind"}}),
        (  # a document class asks for its vectors (docs/documents.md#dense-vectors)
            TopHits(Item, size=1),
            {"top_hits": {"size": 1, "seq_no_primary_term": True, "_source": {"exclude_vectors": False}}},
        ),
        (
            TopHits(Item, _source=["title"]),
            {"top_hits": {"_source": {"includes": ["title"], "exclude_vectors": False}, "seq_no_primary_term": True}},
        ),
        (Terms(Item.color, size=5), {"terms": {"field": "color", "size": 5}}),
        (Terms("color"), {"terms": {"field": "color"}}),
        (Histogram(Item.price, interval=50), {"histogram": {"field": "price", "interval": 50}}),
        (
            DateHistogram(Item.created_at, calendar_interval="month"),
            {"date_histogram": {"field": "created_at", "calendar_interval": "month"}},
        ),
        (
            Range(Item.price, ranges=[{"to": 50}, {"from": 50, "key": "dear"}]),
            {"range": {"field": "price", "ranges": [{"to": 50}, {"from": 50, "key": "dear"}]}},
        ),
        (
            Filters({"sold_out": Item.stock == 0}),
            {"filters": {"filters": {"sold_out": {"term": {"stock": 0}}}}},
        ),
        (Filter(Item.kind == Kind.HAT), {"filter": {"term": {"kind": "hat"}}}),
        (Nested(Item.variants), {"nested": {"path": "variants"}}),
        (ReverseNested(), {"reverse_nested": {}}),
        (
            Composite(Combo, size=10),
            {
                "composite": {
                    "sources": [
                        {"color": {"terms": {"field": "color"}}},
                        {"band": {"histogram": {"field": "price", "interval": 50}}},
                        {"month": {"date_histogram": {"field": "created_at", "calendar_interval": "month"}}},
                    ],
                    "size": 10,
                }
            },
        ),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, dict) else "",
)
def test_each_kind_sends_elasticsearch_dsl_s_own_body(definition: Any, expected: dict[str, Any]) -> None:
    One = type("One", (Aggs,), {"it": definition})
    assert body_of(One) == {"it": expected}


def test_sub_aggregations_nest_in_the_request() -> None:
    class Facets(Aggs):
        colors = Terms(Item.color, aggs=Parents)
        variants = Nested(Item.variants, aggs=type("Back", (Aggs,), {"items": ReverseNested(aggs=Parents)}))
        red = Filter(Item.color == "red", aggs=Parents)

    assert body_of(Facets) == {
        "colors": {"terms": {"field": "color"}, "aggs": {"price": {"avg": {"field": "price"}}}},
        "variants": {
            "nested": {"path": "variants"},
            "aggs": {"items": {"reverse_nested": {}, "aggs": {"price": {"avg": {"field": "price"}}}}},
        },
        "red": {"filter": {"term": {"color": "red"}}, "aggs": {"price": {"avg": {"field": "price"}}}},
    }


def test_aggregate_adds_to_the_search_and_leaves_the_original_alone() -> None:
    s = Item.search().filter(Item.in_stock == True)  # noqa: E712 - a query, not a comparison
    with_aggs = s.aggregate(Parents)
    assert "aggs" not in s.to_dict()
    assert with_aggs.to_dict()["aggs"] == {"price": {"avg": {"field": "price"}}}
    assert with_aggs.to_dict()["query"] == s.to_dict()["query"]
    assert with_aggs.aggs["price"].to_dict() == {"avg": {"field": "price"}}  # dsl's own object


def test_aggregate_refuses_a_name_the_search_already_has() -> None:
    s = Item.search()
    s.aggs.bucket("price", "terms", field="price")
    with pytest.raises(ArgumentError, match="already has an aggregation named 'price'"):
        s.aggregate(Parents)
    with pytest.raises(ArgumentError, match="takes an Aggs class"):
        Item.search().aggregate(Item)  # type: ignore[arg-type]


def test_a_composite_page_after_a_key_sends_it_back_as_given() -> None:
    class Combos(Aggs):
        combos = Composite(Combo, size=2, after={"color": "red", "band": 0.0, "month": -2678400000})

    assert body_of(Combos)["combos"]["composite"]["after"] == {"color": "red", "band": 0.0, "month": -2678400000}


# -- declaring ---------------------------------------------------------------------


def test_a_declaration_refuses_annotations_and_reserved_names() -> None:
    with pytest.raises(ArgumentError, match="declares annotations"):
        type("Bad", (Aggs,), {"__annotations__": {"price": float}, "price": Avg(Item.price)})
    with pytest.raises(ArgumentError, match="'key' is reserved"):
        type("Bad", (Aggs,), {"key": Avg(Item.price)})
    with pytest.raises(ArgumentError, match="not a Aggregation"):
        type("Bad", (Aggs,), {"color": TermsSource(Item.color)})
    with pytest.raises(ArgumentError, match="keyed=True"):
        Terms(Item.color, keyed=True)
    with pytest.raises(ArgumentError, match="takes an Aggs class"):
        Terms(Item.color, aggs=Item)  # type: ignore[type-var]
    with pytest.raises(ArgumentError, match="missing_bucket"):
        TermsSource(Item.color, missing_bucket=True)
    with pytest.raises(ArgumentError, match=r"HistogramSource\(missing_bucket=True\)"):
        HistogramSource(Item.price, interval=10, missing_bucket=True)
    with pytest.raises(ArgumentError, match=r"DateHistogramSource\(missing_bucket=True\)"):
        DateHistogramSource(Item.created_at, calendar_interval="month", missing_bucket=True)
    with pytest.raises(ArgumentError, match="named filters"):
        Filters([Item.stock == 0])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["requests", "result_model", "from_aggregations", "from_response_json"])
def test_a_definition_may_not_hide_a_method_of_the_declaration_class(name: str) -> None:
    # Facets.requests = Terms(...) would make aggregate(Facets) fail with "'Terms' object is
    # not callable"; refused at class definition instead, naming the clash.
    with pytest.raises(ArgumentError, match=f"Bad.{name}: {name!r} is reserved"):
        type("Bad", (Aggs,), {name: Avg(Item.price)})


@pytest.mark.parametrize(
    "define",
    [
        lambda: Terms(Item.title),
        lambda: TermsSource(Item.title),
        lambda: Cardinality(Item.title),
        lambda: ValueCount(Item.title),
    ],
)
def test_an_aggregation_on_a_text_field_is_refused_when_declared(define: Any) -> None:
    # Elasticsearch answers 400 (fielddata is disabled) at the first search; the typed
    # expression knows the mapping, so the declaration says it, naming the field.
    with pytest.raises(ArgumentError, match=r"\(Item\.title\): Item\.title is a text field.*Keyword\(\)"):
        define()


def test_a_text_field_s_keyword_sub_field_is_named_and_fielddata_allows_it() -> None:
    class Titled(AsyncDocument):
        title: Annotated[str, Text(fields={"raw": Keyword()})]
        body: Annotated[str, Text(fielddata=True)]

    with pytest.raises(ArgumentError, match=r"Terms\(Titled\.title\).*use its keyword sub-field, Titled\.title\.raw"):
        Terms(Titled.title)
    assert Terms(Titled.title.raw).request().to_dict() == {"terms": {"field": "title.raw"}}
    assert Terms(Titled.body).request().to_dict() == {"terms": {"field": "body"}}
    assert Terms("title").request().to_dict() == {"terms": {"field": "title"}}  # a plain path is unchecked


def test_a_source_may_not_hide_a_method_of_the_sources_class() -> None:
    with pytest.raises(ArgumentError, match="Bad.result_model: 'result_model' is reserved"):
        type("Bad", (Sources,), {"result_model": TermsSource(Item.color)})
    fine: Any = type("Fine", (Sources,), {"requests": TermsSource(Item.color)})
    assert "requests" in fine.__definitions__


def test_a_declared_class_is_not_built_by_hand_and_shows_its_definitions() -> None:
    with pytest.raises(TypeError, match=r"response\.aggs\(Parents\)"):
        Parents()
    assert isinstance(Parents.price, Avg)
    assert list(Parents.__definitions__) == ["price"]


def test_a_subclass_inherits_and_extends_the_definitions() -> None:
    class More(Parents):
        stock = Sum(Item.stock)

    assert body_of(More) == {"price": {"avg": {"field": "price"}}, "stock": {"sum": {"field": "stock"}}}
    result = More.from_aggregations({"price": {"value": 1.0}, "stock": {"value": 2.0}})
    assert (result.price, result.stock) == (1.0, 2.0) and isinstance(result, Parents)


# -- reading -------------------------------------------------------------------------


def test_a_result_is_read_into_the_declared_class() -> None:
    class Facets(Aggs):
        colors = Terms(Item.color, aggs=Parents)
        monthly = DateHistogram(Item.created_at, calendar_interval="month")

    data = {
        "colors": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 4,
            "buckets": [{"key": "red", "doc_count": 2, "price": {"value": None}}],
        },
        "monthly": {"buckets": [{"key": -2678400000, "key_as_string": "1969-12-01T00:00:00.000Z", "doc_count": 1}]},
    }
    facets = Facets.from_aggregations(data)
    bucket = facets.colors.buckets[0]
    assert (bucket.key, bucket.doc_count, bucket.aggs.price, facets.colors.sum_other_doc_count) == ("red", 2, None, 4)
    assert isinstance(bucket, Parents)
    assert bucket.aggs is bucket  # the sub-aggregations are the bucket's own fields
    assert facets.monthly.buckets[0].key == datetime(1969, 12, 1, tzinfo=timezone.utc)


def test_epoch_milliseconds_are_never_read_as_seconds() -> None:
    class Monthly(Aggs):
        monthly = DateHistogram(Item.created_at, calendar_interval="day")

    # 20,000 ms after the epoch: pydantic's guess would read 20000 as seconds (05:33:20).
    found = Monthly.from_aggregations({"monthly": {"buckets": [{"key": 20000, "doc_count": 1}]}})
    assert found.monthly.buckets[0].key == datetime(1970, 1, 1, 0, 0, 20, tzinfo=timezone.utc)


def test_a_missing_or_malformed_aggregation_is_a_clear_error() -> None:
    with pytest.raises(AggregationResultError, match=r"Parents\.price\.value is missing from the response") as caught:
        Parents.from_aggregations(None)
    assert caught.value.names == ["price.value"] and caught.value.__cause__ is caught.value.errors

    class Facets(Aggs):
        stocks = Terms(Item.stock)

    bad = {"stocks": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [{"key": "x", "doc_count": 1}]}}
    with pytest.raises(AggregationResultError, match=r"Facets\.stocks\.buckets\[0\]\.key: Input should be a valid integer"):
        Facets.from_aggregations(bad)


def test_an_invalid_top_hit_is_the_hit_validation_error_naming_it() -> None:
    class Best(Aggs):
        top = TopHits(Item, size=1)

    hit = {"_index": "items", "_id": "7", "_score": 1.0, "_source": {"title": "x", "color": "red", "created_at": "nope"}}
    with pytest.raises(HitValidationError, match="hit '7' in index 'items'"):
        Best.from_aggregations({"top": {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit]}}})


def test_invalid_top_hits_reported_to_a_list_are_left_out_and_named() -> None:
    class Best(Aggs):
        top = TopHits(Item, size=3)

    good = {"_index": "items", "_id": "1", "_source": {"title": "x", "color": "red", "created_at": 0}}
    bad = {"_index": "items", "_id": "7", "_source": {"title": "x", "color": "red", "created_at": "nope"}}
    data = {"top": {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": [bad, good]}}}
    invalid: list[InvalidHit] = []
    best = Best.from_aggregations(data, invalid)
    assert [item.meta.id for item in best.top] == ["1"]
    [report] = invalid
    assert (report.index, report.id, report.model) == ("items", "7", "Item (top hits 'top')")
    assert report.source == bad["_source"] and [e["loc"] for e in report.errors] == [("created_at",)]
    with pytest.raises(HitValidationError, match=r"hit '7' in index 'items' is not a valid Item \(top hits 'top'\)") as caught:
        Best.from_aggregations(data)  # no list: raised, as before
    assert caught.value.__cause__ is caught.value.errors
    raw = b'{"took":1,"aggregations":' + orjson.dumps(data) + b"}"
    from_bytes: list[InvalidHit] = []
    assert [item.meta.id for item in Best.from_response_json(raw, from_bytes).top] == ["1"] and len(from_bytes) == 1


def test_results_from_response_bytes() -> None:
    raw = b'{"took":1,"hits":{"hits":[]},"aggregations":{"price":{"value":2.5}}}'
    assert Parents.from_response_json(raw).price == 2.5
    with pytest.raises(AggregationResultError, match="missing"):
        Parents.from_response_json(b'{"took":1}')


def test_a_declared_class_is_a_field_type_for_pydantic_and_fastapi() -> None:
    class Page(BaseModel):
        total: int
        facets: Parents

    page = Page.model_validate({"total": 3, "facets": {"price": {"value": 4.0}}})
    assert isinstance(page.facets, Parents) and page.facets.price == 4.0
    assert page.model_dump() == {"total": 3, "facets": {"price": 4.0}}
    schema = TypeAdapter(Parents).json_schema(mode="serialization")
    assert schema["properties"]["price"]["anyOf"] == [{"type": "number"}, {"type": "null"}]


def test_typed_results_need_no_untyped_search() -> None:
    s: AsyncSearch[Any] = AsyncSearch(index="items").aggregate(Parents)
    assert s.to_dict()["aggs"] == {"price": {"avg": {"field": "price"}}}


def test_composite_pages_need_exactly_one_composite() -> None:
    with pytest.raises(ArgumentError, match="exactly one Composite aggregation in Parents, it has 0"):
        composite_of(Parents)


class KindsByColor(Aggs):
    kinds = Terms(Item.kind)


class ColorsThenKinds(Aggs):
    colors = Terms(Item.color, aggs=KindsByColor)


class KindSource(Sources):
    kind = TermsSource(Item.kind)


class KindPages(Aggs):
    pages = Composite(KindSource)


def test_refused_bucket_keys_at_any_depth_are_left_out_when_skipping_and_raise_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {
        "colors": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": "red", "doc_count": 3, "kinds": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                 "buckets": [{"key": "hat", "doc_count": 2}, {"key": "sock", "doc_count": 1}]}},
            ],
        }
    }
    with pytest.raises(AggregationResultError, match=r"colors\.buckets\[0\]\.kinds\.buckets\[1\]\.key"):
        ColorsThenKinds.from_aggregations(data)
    with caplog.at_level("WARNING", logger="odm"):
        read = ColorsThenKinds.from_aggregations(data, invalid=[])
    assert [(b.key, b.doc_count) for b in read.colors.buckets[0].aggs.kinds.buckets] == [(Kind.HAT, 2)]
    assert ["colors.buckets.0.kinds.buckets: bucket key 'sock'" in r.getMessage() for r in caplog.records] == [True]
    assert len(data["colors"]["buckets"][0]["kinds"]["buckets"]) == 2  # type: ignore[index]  # the input is not changed

    pages = {"pages": {"after_key": {"kind": "hat"}, "buckets": [
        {"key": {"kind": "sock"}, "doc_count": 4}, {"key": {"kind": "hat"}, "doc_count": 1}]}}
    assert [b.key.kind for b in KindPages.from_aggregations(pages, invalid=[]).pages.buckets] == [Kind.HAT]
    # a refused after_key cannot be left out (the next page starts from it): it raises
    pages["pages"]["after_key"] = {"kind": "sock"}
    with pytest.raises(AggregationResultError, match=r"pages\.after_key\.kind"):
        KindPages.from_aggregations(pages, invalid=[])
    # other errors are never skipped: a missing aggregation raises under every policy
    with pytest.raises(AggregationResultError, match="is missing"):
        KindPages.from_aggregations({}, invalid=[])


def test_min_and_max_of_date_fields_are_dates_read_from_epoch_milliseconds() -> None:
    class Shift(AsyncDocument):
        day: date
        started_at: datetime
        hours: int = 0

        class Index:
            name = "shifts"

    class Span(Aggs):
        first_day = Min(Shift.day)
        last_start = Max(Shift.started_at)
        longest = Max(Shift.hours)

    read = Span.from_aggregations(
        {"first_day": {"value": -86400000.0, "value_as_string": "1969-12-31"},
         "last_start": {"value": 1764460800123.0}, "longest": {"value": 9.0}}
    )
    assert (read.first_day, read.last_start, read.longest) == (
        date(1969, 12, 31), datetime(2025, 11, 30, 0, 0, 0, 123000, tzinfo=timezone.utc), 9.0
    )
    assert [type(v) for v in (read.first_day, read.last_start, read.longest)] == [date, datetime, float]
    empty = Span.from_aggregations({"first_day": {"value": None}, "last_start": {"value": None}, "longest": {"value": None}})
    assert (empty.first_day, empty.last_start, empty.longest) == (None, None, None)
