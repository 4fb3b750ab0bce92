"""AsyncSearch against the real node: typed hits with meta, responses, paging, bad hits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl.response import Hit

from odm import AsyncDocument, AsyncSearch, DenseVector, HitValidationError, Keyword, Q, VersionConflictError
from odm.testing.isolation import isolated
from tests.models.blog import Author, Comment, Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    for n in range(25):
        await bound(
            title=f"post {n} about {'python' if n % 2 else 'java'}",
            body="hello world" if n < 3 else "",
            tags=["python"] if n % 2 else ["java"],
            views=n,
            author=Author(name=f"author {n % 3}", email=f"a{n % 3}@example.com"),
            comments=[Comment(author="ann" if n == 4 else "bob", body="nice post", created_at=WHEN)],
            created_at=WHEN + timedelta(days=n),
            meta={"id": f"p{n}"},
        ).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def test_async_for_yields_models_with_meta(posts: type[Post]) -> None:
    seen = [hit async for hit in posts.search().query("match", title="python")]
    assert len(seen) == 10  # the default page size
    assert all(isinstance(hit, posts) for hit in seen)
    first = seen[0]
    assert first.meta.id is not None and first.meta.index == posts.index_name()
    assert first.meta.score is not None and first.meta.score > 0
    assert "python" in first.title


async def test_execute_gives_total_aggregations_and_took(posts: type[Post]) -> None:
    s = posts.search().filter("term", tags="python").extra(size=3)
    s.aggs.bucket("by_tag", "terms", field="tags").metric("top_views", "max", field="views")
    response = await s.execute()
    assert response.hits.total.value == 12 and response.hits.total.relation == "eq"
    assert len(response) == 3 and response.took >= 0 and response.success()
    [bucket] = response.aggregations.by_tag.buckets
    assert (bucket.key, bucket.doc_count, bucket.top_views.value) == ("python", 12, 23.0)
    assert response.search is s
    assert await s.execute() is response  # cached
    assert await s.execute(ignore_cache=True) is not response


async def test_sort_slicing_and_sort_values_in_meta(posts: type[Post]) -> None:
    page = [p async for p in posts.search().sort("-views")[5:8]]
    assert [p.views for p in page] == [19, 18, 17]
    assert page[0].meta.sort == [19]


async def test_highlight_and_inner_hits_are_kept_in_meta(posts: type[Post]) -> None:
    [hit] = [h async for h in posts.search().query("match", body="hello").highlight("body").sort("views")[:1]]
    assert hit.meta.highlight == {"body": ["<em>hello</em> world"]}
    nested = Q("nested", path="comments", query=Q("term", comments__author="ann"), inner_hits={})
    [found] = [h async for h in posts.search().query(nested)]
    assert found.views == 4
    assert found.meta.inner_hits is not None
    [inner] = found.meta.inner_hits["comments"].of(Comment)  # typed: tests/integration/test_inner_hits.py
    assert inner.doc.author == "ann"


async def test_count_scan_and_iterate_see_every_document(posts: type[Post]) -> None:
    assert await posts.search().count() == 25
    assert await posts.search().filter("range", views={"gte": 20}).count() == 5
    scanned = [p async for p in posts.search().params(size=7).scan()]
    assert sorted(p.views for p in scanned) == list(range(25))
    iterated = [p async for p in posts.search().extra(size=10).sort("views").iterate()]
    assert [p.views for p in iterated] == list(range(25))
    assert all(isinstance(p, posts) for p in scanned + iterated)


async def test_source_filtering_returns_partial_models(posts: type[Post]) -> None:
    [hit] = [h async for h in posts.search().filter("term", views=3).source(["title", "views"])]
    assert (hit.title, hit.views) == ("post 3 about python", 3)
    assert hit.model_fields_set == {"title", "views"}
    assert hit.tags == []  # not fetched: the field's default
    with pytest.raises(AttributeError):
        _ = hit.created_at  # not fetched, no default


async def test_hits_from_aliases_and_other_indices_are_models(odm_client: AsyncElasticsearch, posts: type[Post]) -> None:
    alias = posts.index_name() + "-read"
    await odm_client.indices.put_alias(index=posts.index_name(), name=alias)
    via_alias = [p async for p in posts.search(index=alias).filter("term", views=1)]
    assert [type(p) for p in via_alias] == [posts]
    assert via_alias[0].meta.index == posts.index_name()


async def test_an_invalid_hit_raises_naming_index_id_and_field(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    await odm_client.index(
        index=posts.index_name(),
        id="broken",
        document={"title": "post broken", "created_at": "2026-11-24T00:00:00", "views": 1, "author": {"name": "x"}},
        refresh=True,
    )
    with pytest.raises(HitValidationError) as caught:
        [p async for p in posts.search().query("match", title="broken")]
    assert (caught.value.index, caught.value.id) == (posts.index_name(), "broken")
    assert "author.email" in str(caught.value)


async def test_untyped_search_yields_attribute_dicts_over_all_indices(posts: type[Post]) -> None:
    hits = [h async for h in AsyncSearch().index(posts.index_name()).query("match", title="python")[:3]]
    assert len(hits) == 3 and all(isinstance(h, Hit) for h in hits)
    assert "python" in hits[0].title and hits[0].meta.index == posts.index_name()


async def test_several_models_by_index(odm_client: AsyncElasticsearch, posts: type[Post], index_prefix: str) -> None:
    class Note(AsyncDocument):
        text: str

        class Index:
            name = index_prefix + "notes"

    await Note.init()
    await Note(text="python notes", meta={"id": "n1"}).save(refresh=True)
    s = AsyncSearch[Any](index=[posts.index_name(), Note.index_name()], doc_type=[posts, Note])
    found = [h async for h in s.query("multi_match", query="python", fields=["title", "text"])[:50]]
    assert {type(h) for h in found} == {posts, Note}
    assert sum(isinstance(h, Note) for h in found) == 1


async def test_knn_collapse_and_suggest(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    class Item(AsyncDocument):
        name: Annotated[str, Keyword()]
        group: Annotated[str, Keyword()]
        # Elasticsearch 9 leaves dense vectors out of _source by default: hits come back without it.
        vector: Annotated[list[float] | None, DenseVector(dims=2, index=True, similarity="l2_norm")] = None

        class Index:
            name = index_prefix + "items"

    await Item.init()
    for n, vector in enumerate([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]):
        await Item(name=f"item{n}", group="a" if n < 2 else "b", vector=vector, meta={"id": str(n)}).save()
    await odm_client.indices.refresh(index=Item.index_name())
    nearest = await Item.search().knn("vector", 1, 10, query_vector=[4.0, 4.0]).execute()
    assert [i.name for i in nearest] == ["item2"]
    collapsed = [i async for i in Item.search().collapse("group").sort("name")]
    assert [i.name for i in collapsed] == ["item0", "item2"]
    response = await Item.search().suggest("fix", "itme1", term={"field": "name"}).execute()
    assert response.suggest.fix[0].text == "itme1"


@pytest.mark.requires_module("reindex")
async def test_delete_by_query(posts: type[Post]) -> None:
    result = await posts.search().filter("range", views={"lt": 5}).params(refresh=True).delete()
    assert result["deleted"] == 5
    assert await posts.search().count() == 20


async def test_hits_carry_concurrency_tokens_for_a_safe_save_back(posts: type[Post]) -> None:
    [first] = [p async for p in posts.search().filter("term", views=0)]
    [again] = [p async for p in posts.search().filter("term", views=0)]
    assert first.meta.seq_no is not None and first.meta.primary_term is not None
    first.views = 100
    await first.save(if_unchanged=True, refresh=True)
    again.views = 200
    with pytest.raises(VersionConflictError):
        await again.save(if_unchanged=True)
    assert (await posts.get(first.meta.id or "")).views == 100
