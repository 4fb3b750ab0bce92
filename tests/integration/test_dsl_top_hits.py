"""Top hits asked the elasticsearch-dsl way on a typed search (``s.aggs ... .metric("top", "top_hits")``),
read through ``response.aggregations``: documents of the searched class with meta, nested models
inside a ``nested`` bucket, partial where the source is filtered, invalid ones by ``on_invalid``."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import numpy as np
import pytest
from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl.response import Hit
from elasticsearch.dsl.response.aggs import FieldBucket, TopHitsData
from pydantic import BaseModel, ValidationError

from odm import (
    AsyncDocument,
    AsyncSearch,
    DenseVector,
    DocumentStateError,
    HitValidationError,
    InnerHit,
    Keyword,
    VersionConflictError,
)
from odm.testing.isolation import isolated


class Remark(BaseModel):
    author: Annotated[str, Keyword()]
    body: str


class Story(AsyncDocument):
    title: str
    tags: list[Annotated[str, Keyword()]] = []
    remarks: list[Remark] = []
    views: int = 0
    vector: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm")] | None = None

    class Index:
        name = "dsl-top-stories"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Page(AsyncDocument):
    """Another class, in another index, sharing the ``tags`` field."""

    heading: str
    tags: list[Annotated[str, Keyword()]] = []

    class Index:
        name = "dsl-top-pages"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


STORED: dict[str, dict[str, Any]] = {
    "s1": {"title": "one", "tags": ["a"], "views": 1, "vector": [1.0, 2.0, 3.0],
           "remarks": [{"author": "ann", "body": "first"}, {"author": "bob", "body": "second"}]},
    "s2": {"title": "two", "tags": ["a", "b"], "views": 2, "remarks": [{"author": "ann", "body": "third"}]},
    "s3": {"title": "three", "tags": ["b"], "views": 3},
}


@pytest.fixture
async def stories(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Story]:
    bound = isolated(Story, index_prefix)
    await bound.init()
    for doc_id, source in STORED.items():
        await odm_client.index(index=bound.index_name(), id=doc_id, document=source)
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


def by_tag(search: AsyncSearch[Any], **top: Any) -> AsyncSearch[Any]:
    search = search.extra(size=0)
    search.aggs.bucket("by_tag", "terms", field="tags", order={"_key": "asc"}).metric(
        "top", "top_hits", size=3, sort=[{"views": "asc"}], **top
    )
    return search


async def stored_source(client: AsyncElasticsearch, index: str, doc_id: str) -> Any:
    return (await client.get(index=index, id=doc_id, source_exclude_vectors=False))["_source"]


async def test_terms_bucket_top_hits_are_documents_with_meta(odm_client: AsyncElasticsearch, stories: type[Story]) -> None:
    response = await by_tag(stories.search()).execute()
    buckets = response.aggregations.by_tag.buckets
    assert all(isinstance(bucket, FieldBucket) for bucket in buckets)  # field buckets keep their wrappers
    assert [(b.key, b.doc_count) for b in buckets] == [("a", 2), ("b", 2)]
    top = buckets[0].top
    assert isinstance(top, TopHitsData) and top.hits.total.value == 2  # type: ignore[attr-defined]  # dsl's AttrDict
    first, second = top.hits
    assert isinstance(first, stories) and isinstance(second, stories)
    assert (first.meta.id, first.meta.index, first.title, second.meta.id) == ("s1", stories.index_name(), "one", "s2")
    assert first.remarks == [Remark(author="ann", body="first"), Remark(author="bob", body="second")]
    assert first.meta.seq_no is not None and first.meta.primary_term is not None and not first.meta.partial_source
    assert first.meta.sort == [1]
    assert response.aggregations is response.aggregations  # read once
    # the vector Elasticsearch leaves out of _source by default came back: saved, it is kept
    assert first.vector == [1.0, 2.0, 3.0]
    first.title = "renamed as a top hit"
    await first.save(refresh=True)
    assert await stored_source(odm_client, stories.index_name(), "s1") == {**STORED["s1"], "title": "renamed as a top hit"}
    # its tokens guard it: a top hit written since it was read is a conflict, not overwritten
    [stale] = [h for h in (await by_tag(stories.search()).execute()).aggregations.by_tag.buckets[0].top.hits if h.meta.id == "s2"]
    await odm_client.index(index=stories.index_name(), id="s2", document={**STORED["s2"], "views": 20}, refresh=True)
    stale.title = "overwrite"
    with pytest.raises(VersionConflictError):
        await stale.save()
    assert (await stored_source(odm_client, stories.index_name(), "s2"))["views"] == 20


async def test_a_filtered_source_gives_partial_top_hits_that_save_refuses(
    odm_client: AsyncElasticsearch, stories: type[Story]
) -> None:
    for source in (["title"], {"includes": ["title"]}, False):
        hits = (await by_tag(stories.search(), _source=source).execute()).aggregations.by_tag.buckets[0].top.hits
        assert [h.meta.id for h in hits] == ["s1", "s2"]
        assert all(isinstance(h, stories) and h.meta.partial_source for h in hits), source
        with pytest.raises(DocumentStateError):
            await hits[0].save()
    assert await stored_source(odm_client, stories.index_name(), "s1") == STORED["s1"]


async def test_nested_bucket_top_hits_are_the_nested_model_with_meta(stories: type[Story]) -> None:
    s = stories.search().extra(size=0)
    nested = s.aggs.bucket("r", "nested", path="remarks")
    nested.metric("top", "top_hits", size=5)
    nested.bucket("by_author", "terms", field="remarks.author", order={"_key": "asc"}).metric("top", "top_hits", size=5)
    nested.bucket("back", "reverse_nested").metric("top", "top_hits", size=5, sort=[{"views": "asc"}])
    aggregations = (await s.execute()).aggregations

    hits = aggregations.r.top.hits
    assert all(isinstance(h, InnerHit) and isinstance(h.doc, Remark) for h in hits)
    assert sorted((h.meta.id, h.doc.body) for h in hits) == [("s1", "first"), ("s1", "second"), ("s2", "third")]
    s1_second = next(h for h in hits if h.doc.body == "second")
    assert s1_second.meta.index == stories.index_name()
    assert s1_second.meta.nested is not None and (s1_second.meta.nested.field, s1_second.meta.nested.offset) == ("remarks", 1)
    assert s1_second.meta.seq_no is None and not s1_second.meta.partial_source  # nested hits carry no tokens

    ann, bob = aggregations.r.by_author.buckets
    assert isinstance(ann, FieldBucket) and ann.key == "ann"
    assert sorted(h.doc.body for h in ann.top.hits) == ["first", "third"]
    assert [h.doc for h in bob.top.hits] == [Remark(author="bob", body="second")]

    back = aggregations.r.back.top.hits  # reverse_nested: the documents again
    assert [(type(h), h.meta.id) for h in back] == [(stories, "s1"), (stories, "s2")]


async def test_a_search_of_several_classes_reads_each_top_hit_as_its_class(
    odm_client: AsyncElasticsearch, index_prefix: str, stories: type[Story]
) -> None:
    pages = isolated(Page, index_prefix)
    await pages.init()
    await odm_client.index(index=pages.index_name(), id="p1", document={"heading": "h", "tags": ["a"]}, refresh=True)
    search = AsyncSearch(index=[stories.index_name(), pages.index_name()], doc_type=[stories, pages]).extra(size=0)
    search.aggs.bucket("by_tag", "terms", field="tags", order={"_key": "asc"}).metric("top", "top_hits", size=5)
    bucket = (await search.execute()).aggregations.by_tag.buckets[0]
    assert bucket.key == "a"
    found = sorted((h.meta.id, type(h)) for h in bucket.top.hits)
    assert found == [("p1", pages), ("s1", stories), ("s2", stories)]
    assert all(h.meta.seq_no is not None for h in bucket.top.hits)


async def test_an_untyped_search_keeps_elasticsearch_dsl_hits(stories: type[Story]) -> None:
    bucket = (await by_tag(AsyncSearch(index=stories.index_name())).execute()).aggregations.by_tag.buckets[0]
    assert [type(h) for h in bucket.top.hits] == [Hit, Hit] and bucket.top.hits[0].title == "one"


# -- top hits that do not validate: the search's on_invalid policy, as the typed TopHits ---------


@pytest.fixture
async def with_invalid(odm_client: AsyncElasticsearch, stories: type[Story]) -> type[Story]:
    bad = {"title": "bad", "tags": ["a"], "views": 2.5, "remarks": [{"author": "cy"}]}  # views (int), a remark without body
    await odm_client.index(index=stories.index_name(), id="bad", document=bad, refresh=True)
    return stories


def bucket_a_and_remarks(search: AsyncSearch[Any]) -> AsyncSearch[Any]:
    search = by_tag(search)
    search.aggs.bucket("r", "nested", path="remarks").metric("top", "top_hits", size=5)
    return search


async def test_an_invalid_top_hit_raises_by_default_naming_it(with_invalid: type[Story]) -> None:
    response = await by_tag(with_invalid.search()).execute()
    with pytest.raises(HitValidationError) as caught:
        response.aggregations  # noqa: B018 - read at the first access
    assert (caught.value.index, caught.value.id) == (with_invalid.index_name(), "bad")
    assert caught.value.model == f"{with_invalid.__name__} (top hits 'top')"
    assert isinstance(caught.value.__cause__, ValidationError)

    s = with_invalid.search().extra(size=0)
    s.aggs.bucket("r", "nested", path="remarks").metric("top", "top_hits", size=5)
    with pytest.raises(HitValidationError) as nested:
        (await s.execute()).aggregations  # noqa: B018
    assert nested.value.id == "bad" and nested.value.model == "Remark (top hits 'top', remarks[0])"


async def test_invalid_top_hits_skipped_are_left_out_and_logged(
    with_invalid: type[Story], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    response = await bucket_a_and_remarks(with_invalid.search().on_invalid("skip")).execute()
    aggregations = response.aggregations
    a = aggregations.by_tag.buckets[0]
    assert a.doc_count == 3 and a.top.hits.total.value == 3  # Elasticsearch's counts: nothing invented
    assert [h.meta.id for h in a.top.hits] == ["s1", "s2"]
    assert sorted(h.doc.body for h in aggregations.r.top.hits) == ["first", "second", "third"]
    assert response.invalid_hits == []
    messages = [r.getMessage() for r in caplog.records if r.name == "odm"]
    assert len(messages) == 2 and all("on_invalid='skip'" in m and "'bad'" in m for m in messages)
    assert response.aggregations is aggregations and len(caplog.records) == 2  # read (and logged) once


async def test_invalid_top_hits_collected_are_on_the_response(with_invalid: type[Story]) -> None:
    response = await bucket_a_and_remarks(with_invalid.search().on_invalid("collect")).execute()
    assert response.invalid_hits == []  # size=0: no hits; the aggregations are not read yet
    assert [h.meta.id for h in response.aggregations.by_tag.buckets[0].top.hits] == ["s1", "s2"]
    name = with_invalid.__name__
    assert [(hit.id, hit.model) for hit in response.invalid_hits] == [
        ("bad", f"{name} (top hits 'top')"),
        ("bad", "Remark (top hits 'top', remarks[0])"),
    ]
    top = response.invalid_hits[0]
    assert top.source is not None and top.source["views"] == 2.5
    assert [e["loc"] for e in top.errors] == [("remarks", 0, "body"), ("views",)]


async def test_a_vector_comes_back_as_the_typed_search_asks(odm_client: AsyncElasticsearch, stories: type[Story]) -> None:
    # Shown first: a plain read does not return the vector, so its presence below is odm asking.
    raw = await odm_client.search(index=stories.index_name(), query={"ids": {"values": ["s1"]}})
    assert "vector" not in raw["hits"]["hits"][0]["_source"]
    [top] = (await by_tag(stories.search().query("ids", values=["s1"])).execute()).aggregations.by_tag.buckets[0].top.hits
    assert np.array_equal(np.array(top.vector, dtype=np.float32), np.array([1.0, 2.0, 3.0], dtype=np.float32))
