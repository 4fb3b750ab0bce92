"""AsyncFacetedSearch without a server: the request it builds and how buckets become values."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from elasticsearch.dsl.response import AggResponse

from odm import (
    NO_RETRIES,
    A,
    AggregationResultError,
    ArgumentError,
    AsyncFacetedSearch,
    DateHistogramFacet,
    FacetKeyError,
    Facets,
    FacetValue,
    HistogramFacet,
    NestedFacet,
    RangeFacet,
    RetryPolicy,
    TermsFacet,
)
from odm._core.hits import InvalidPolicy
from odm.search._faceted import _Reading, _values_of
from tests.models.aggs_shop import Item, Kind
from tests.models.blog import Post


class PostSearch(AsyncFacetedSearch[Post]):
    doc_types = [Post]
    fields = ["title^3", "body"]
    facets = {
        "tags": TermsFacet(field="tags"),
        "month": DateHistogramFacet(field="created_at", calendar_interval="month"),
    }


NOVEMBER = datetime(2026, 11, 1)
TAGS_FILTER = {"terms": {"tags": ["python", "java"]}}
MONTH_FILTER = {"range": {"created_at": {"gte": NOVEMBER, "lt": datetime(2026, 12, 1)}}}


def test_query_filters_and_sort_build_the_body() -> None:
    fs = PostSearch("hello", filters={"tags": ["python", "java"], "month": NOVEMBER}, sort=["-views"])
    assert fs._s._index == ["posts"]  # from the document's Index.name
    assert fs._s.to_dict() == {
        "query": {"multi_match": {"query": "hello", "fields": ["title^3", "body"]}},
        # the hits are narrowed by every filter ...
        "post_filter": {"bool": {"must": [TAGS_FILTER, MONTH_FILTER]}},
        # ... each facet is counted under the other facets' filters, not its own
        "aggs": {
            "_filter_tags": {"filter": MONTH_FILTER, "aggs": {"tags": {"terms": {"field": "tags"}}}},
            "_filter_month": {
                "filter": TAGS_FILTER,
                "aggs": {
                    "month": {
                        "date_histogram": {"calendar_interval": "month", "field": "created_at", "min_doc_count": 0}
                    }
                },
            },
        },
        "sort": [{"views": {"order": "desc"}}],
        "highlight": {"fields": {"title": {}, "body": {}}},
    }


def test_no_query_and_no_filter_count_over_everything() -> None:
    body = PostSearch()._s.to_dict()
    assert "query" not in body and "post_filter" not in body
    assert body["aggs"]["_filter_tags"]["filter"] == {"match_all": {}}


def test_slicing_pages_and_an_explicit_index_wins() -> None:
    class Elsewhere(PostSearch):
        index = "posts-archive"

    fs = Elsewhere()[10:20]
    assert (fs._s.to_dict()["from"], fs._s.to_dict()["size"]) == (10, 10)
    assert fs._s._index == ["posts-archive"]


def test_filtering_on_an_undeclared_facet_is_refused() -> None:
    with pytest.raises(ValueError, match=r"PostSearch has no facet 'tag'; its facets are \['month', 'tags'\]"):
        PostSearch(filters={"tag": "python"})


@pytest.mark.parametrize(
    "given",
    [date(2026, 11, 1), NOVEMBER, datetime(2026, 11, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))],
    ids=["date", "naive_utc", "aware"],
)
def test_a_date_filter_is_read_as_the_naive_utc_bucket_key(given: date) -> None:
    fs = PostSearch(filters={"month": given})
    assert fs.filter_values == {"month": [NOVEMBER]}  # what `selected` compares bucket keys with
    assert fs._s.to_dict()["post_filter"] == MONTH_FILTER


def test_facet_values_unpack_like_elasticsearch_dsl_tuples() -> None:
    value, count, selected = FacetValue("python", 3, True)
    assert (value, count, selected) == ("python", 3, True)
    assert FacetValue("python", 3, True).count == 3


def test_facets_are_attributes_and_an_unknown_name_says_what_exists() -> None:
    facets = Facets(tags=[FacetValue("python", 3, False)])
    assert facets.tags is facets["tags"]
    with pytest.raises(AttributeError, match=r"no facet named 'tag'; the search declares \['tags'\]"):
        facets.tag  # noqa: B018


def aggregation(name: str, facet: Any, data: dict[str, Any]) -> Any:
    """The bucket data of one facet, as elasticsearch.dsl hands it over."""
    search = PostSearch()._s
    search.aggs.bucket(name, facet.get_aggregation())
    return getattr(AggResponse(cast(Any, search.aggs), search, {name: data}), name)


@pytest.mark.parametrize(
    ("facet", "data", "selected", "expected"),
    [
        (
            TermsFacet(field="tags"),
            {"buckets": [{"key": "python", "doc_count": 5}, {"key": "java", "doc_count": 2}]},
            ["java"],
            [FacetValue("python", 5, False), FacetValue("java", 2, True)],
        ),
        (
            HistogramFacet(field="views", interval=10),
            {"buckets": [{"key": 0.0, "doc_count": 10}, {"key": 10.0, "doc_count": 4}]},
            [10],
            [FacetValue(0.0, 10, False), FacetValue(10.0, 4, True)],
        ),
        (
            RangeFacet(field="views", ranges=[("few", (None, 5)), ("many", (5, None))]),
            {"buckets": [{"key": "few", "to": 5.0, "doc_count": 5}, {"key": "many", "from": 5.0, "doc_count": 9}]},
            [],
            [FacetValue("few", 5, False), FacetValue("many", 9, False)],
        ),
        (
            DateHistogramFacet(field="created_at", calendar_interval="month"),
            {"buckets": [{"key_as_string": "2026-11-01T00:00:00.000Z", "key": 1793491200000, "doc_count": 7}]},
            [NOVEMBER],
            [FacetValue(NOVEMBER, 7, True)],
        ),
        (
            NestedFacet("comments", TermsFacet(field="comments.author")),
            {"doc_count": 9, "inner": {"buckets": [{"key": "ann", "doc_count": 2}]}},
            ["ann"],
            [FacetValue("ann", 2, True)],
        ),
        (
            TermsFacet(field="tags", metric=A("max", field="views")),
            {"buckets": [{"key": "python", "doc_count": 5, "metric": {"value": 23.0}}]},
            [],
            [FacetValue("python", 5, False)],  # the count stays the number of documents
        ),
    ],
    ids=["terms", "histogram", "range", "date_histogram", "nested", "terms_with_metric"],
)
def test_buckets_become_values_counts_and_selection(
    facet: Any, data: dict[str, Any], selected: list[Any], expected: list[FacetValue]
) -> None:
    untyped = _Reading("PostSearch", (), "raise")  # no document classes: dsl's own keys
    assert _values_of(untyped, "facet", facet, aggregation("facet", facet, data), selected) == expected


KINDS = {
    "doc_count_error_upper_bound": 0,
    "sum_other_doc_count": 0,
    "buckets": [{"key": "hat", "doc_count": 3}, {"key": "scarf", "doc_count": 2}, {"key": "shirt", "doc_count": 1}],
}


def test_a_terms_key_the_field_refuses_is_raised_naming_facet_key_and_field() -> None:
    facet = TermsFacet(field="kind")
    with pytest.raises(FacetKeyError) as caught:
        _values_of(_Reading("ItemSearch", (Item,), "raise"), "kinds", facet, aggregation("kinds", facet, KINDS), [])
    error = caught.value
    assert (error.facet, error.field, error.key, error.names) == ("kinds", "kind", "scarf", ["kinds.buckets[1].key"])
    assert str(error) == (
        "ItemSearch facet 'kinds': bucket key 'scarf' is not a valid value of field 'kind': Input should be 'shirt' or 'hat'"
    )
    assert isinstance(error, AggregationResultError) and error.__cause__ is error.errors


@pytest.mark.parametrize("policy", ["skip", "collect"])
def test_a_terms_key_the_field_refuses_is_left_out_and_logged(
    policy: InvalidPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    facet = TermsFacet(field="kind")
    values = _values_of(_Reading("ItemSearch", (Item,), policy), "kinds", facet, aggregation("kinds", facet, KINDS), ["shirt"])
    assert values == [FacetValue(Kind.HAT, 3, False), FacetValue(Kind.SHIRT, 1, True)]  # never a made-up Kind
    [record] = caplog.records
    assert (record.name, record.levelno) == ("odm", logging.WARNING)
    assert "facet 'kinds': bucket key 'scarf'" in record.getMessage() and f"(on_invalid={policy!r})" in record.getMessage()


def test_an_answer_that_is_not_about_a_key_is_not_taken_for_refused_keys() -> None:
    facet = TermsFacet(field="kind")
    broken = {"buckets": [{"key": "hat"}]}  # no doc_count, no counts of the rest
    with pytest.raises(AggregationResultError) as caught:
        _values_of(_Reading("ItemSearch", (Item,), "skip"), "kinds", facet, aggregation("kinds", facet, broken), [])
    assert not isinstance(caught.value, FacetKeyError)


class PatientSearch(PostSearch):
    retry = RetryPolicy(max_retries=8)


def test_the_retry_policy_is_the_constructors_else_the_classs_else_the_connections() -> None:
    assert PostSearch("python")._s._retry is None  # the connection's policy
    assert PatientSearch("python")._s._retry == RetryPolicy(max_retries=8)
    once = PatientSearch("python", filters={"tags": "python"}, retry=NO_RETRIES)
    assert once._s._retry is NO_RETRIES and PatientSearch.retry == RetryPolicy(max_retries=8)
    assert once[0:5]._s._retry is NO_RETRIES  # kept by the copies the search makes
    with pytest.raises(ArgumentError, match=r"^retry= takes a RetryPolicy, not int$"):
        PostSearch("python", retry=3)  # type: ignore[arg-type]
