"""Top hits asked the elasticsearch-dsl way on a typed search, without a server: what the
request asks for, and where the hits of a response's aggregations are read."""

from __future__ import annotations

import copy
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from odm import AsyncDocument, AsyncSearch, DenseVector, HitValidationError, InnerHit, InvalidHit, Keyword
from odm._core.top_hits import asking_for_documents, with_top_hits_read


class Remark(BaseModel):
    author: Annotated[str, Keyword()]


class Story(AsyncDocument):
    title: str
    tags: list[Annotated[str, Keyword()]] = []
    remarks: list[Remark] = []

    class Index:
        name = "unit-top-stories"
        keep_unknown_fields = False


class Embedded(AsyncDocument):
    title: str
    vector: Annotated[list[float], DenseVector(dims=3)]

    class Index:
        name = "unit-top-embedded"


def with_top_hits(search: AsyncSearch[Any], **params: Any) -> dict[str, Any]:
    search.aggs.bucket("by_tag", "terms", field="tags").metric("top", "top_hits", size=3, **params)
    search.aggs.bucket("r", "nested", path="remarks").bucket("back", "reverse_nested").metric("last", "top_hits")
    return search._body()["aggs"]  # type: ignore[no-any-return]


def test_a_typed_search_asks_top_hits_for_tokens_at_any_depth() -> None:
    aggs = with_top_hits(Story.search())
    assert aggs["by_tag"]["aggs"]["top"] == {"top_hits": {"size": 3, "seq_no_primary_term": True}}
    assert aggs["r"]["aggs"]["back"]["aggs"]["last"] == {"top_hits": {"seq_no_primary_term": True}}


def test_a_class_with_vectors_asks_for_them_and_a_users_choice_is_kept() -> None:
    aggs = with_top_hits(Embedded.search(), _source=["title"], seq_no_primary_term=False)
    assert aggs["by_tag"]["aggs"]["top"] == {
        "top_hits": {"size": 3, "seq_no_primary_term": False, "_source": {"includes": ["title"], "exclude_vectors": False}}
    }
    assert aggs["r"]["aggs"]["back"]["aggs"]["last"]["top_hits"]["_source"] == {"exclude_vectors": False}


def test_an_untyped_search_sends_top_hits_as_given() -> None:
    aggs = with_top_hits(AsyncSearch(index="stories"))
    assert aggs["by_tag"]["aggs"]["top"] == {"top_hits": {"size": 3}}
    assert asking_for_documents({"a": {"top_hits": {}}}, []) == {"a": {"top_hits": {}}}


def hit(doc_id: str, source: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"_index": "unit-top-stories", "_id": doc_id, "_score": 1.0, "_source": source, **more}


DEFINITIONS = {
    "by": {"filters": {"filters": {"x": {}, "y": {}}}, "aggs": {"top": {"top_hits": {}}}},
    "r": {"nested": {"path": "remarks"}, "aggs": {"top": {"top_hits": {"_source": ["remarks.author"]}}}},
}
RESULTS = {
    "by": {"buckets": {
        "x": {"doc_count": 1, "top": {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit("1", {"title": "a"})]}}},
        "y": {"doc_count": 1, "top": {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [hit("2", {"title": 2})]}}},
    }},
    "r": {"doc_count": 1, "top": {"hits": {"hits": [hit("1", {"author": "ann"}, _nested={"field": "remarks", "offset": 0})]}}},
}


def test_keyed_buckets_and_single_bucket_aggregations_are_read_and_the_body_is_not_changed() -> None:
    sent = copy.deepcopy(RESULTS)
    invalid: list[InvalidHit] = []
    read = with_top_hits_read(DEFINITIONS, RESULTS, [Story], invalid)
    assert RESULTS == sent  # response.body stays as Elasticsearch sent it
    [x] = read["by"]["buckets"]["x"]["top"]["hits"]["hits"]
    assert isinstance(x, Story) and x.meta.id == "1" and x.title == "a"
    assert read["by"]["buckets"]["y"]["top"]["hits"]["hits"] == []  # title 2 is not a str: reported, not invented
    assert read["by"]["buckets"]["y"]["top"]["hits"]["total"] == {"value": 1, "relation": "eq"}
    assert [(h.id, h.model) for h in invalid] == [("2", "Story (top hits 'top')")]
    [remark] = read["r"]["top"]["hits"]["hits"]
    assert isinstance(remark, InnerHit) and remark.doc == Remark(author="ann") and remark.meta.partial_source


def test_without_a_list_to_report_to_an_invalid_top_hit_raises() -> None:
    with pytest.raises(HitValidationError) as caught:
        with_top_hits_read(DEFINITIONS, RESULTS, [Story], None)
    assert (caught.value.id, caught.value.model) == ("2", "Story (top hits 'top')")
