"""AsyncMultiSearch against the real node: typed responses in order, errors raised or reported."""

from __future__ import annotations

from datetime import datetime

import pytest
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, NotFoundError
from elasticsearch.dsl.response import Hit

from odm import AsyncMultiSearch, AsyncSearch, HitValidationError
from odm.testing.isolation import isolated
from tests.models.blog import Post
from tests.models.wiki import Page

WHEN = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    for n in range(6):
        tags = ["python"] if n % 2 else ["java"]
        await bound(title=f"post {n}", tags=tags, views=n, created_at=WHEN, meta={"id": f"p{n}"}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


@pytest.fixture
async def pages(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Page]:
    bound = isolated(Page, index_prefix)
    await bound.init()
    await bound(title="python page", tags=["python"], meta={"id": "w1"}).save(refresh=True)
    return bound


async def test_each_search_gets_its_own_typed_response_in_order(posts: type[Post]) -> None:
    python = posts.search().filter("term", tags="python").sort("views")
    java = posts.search().filter("term", tags="java").sort("-views").extra(size=2)
    java.aggs.metric("most_views", "max", field="views")
    ms = AsyncMultiSearch[Post]().add(python).add(java)

    first, second = await ms.execute()

    assert first.search is python and second.search is java
    assert [p.meta.id for p in first] == ["p1", "p3", "p5"] and first.hits.total.value == 3
    assert [p.views for p in second] == [4, 2] and second.hits.total.value == 3
    assert all(isinstance(p, posts) and p.meta.index == posts.index_name() for p in [*first, *second])
    assert second.aggregations.most_views.value == 4.0


async def test_models_can_be_mixed_and_an_untyped_search_gives_attribute_dicts(
    posts: type[Post], pages: type[Page]
) -> None:
    ms = (
        AsyncMultiSearch[Post]()
        .add(posts.search().filter("term", tags="python"))
        .add(pages.search().filter("term", tags="python"))
        .add(AsyncSearch(index=pages.index_name()))
    )
    some_posts, some_pages, raw = await ms.execute()
    assert {type(p) for p in some_posts} == {posts} and len(some_posts) == 3
    assert [(type(p), p.title) for p in some_pages] == [(pages, "python page")]
    [hit] = raw
    assert isinstance(hit, Hit) and hit.title == "python page" and hit.meta.id == "w1"


async def test_each_search_keeps_its_own_partial_source_rule(posts: type[Post]) -> None:
    titles = posts.search().source(["title"]).filter("term", tags="python").sort("views")
    whole = posts.search().filter("term", tags="python").sort("views")
    partial, full = await AsyncMultiSearch[Post]().add(titles).add(whole).execute()
    assert [p.title for p in partial] == ["post 1", "post 3", "post 5"]
    assert partial[2].model_fields_set == {"title"} and partial[2].views == 0  # not fetched
    assert full[2].views == 5 and full[2].created_at == WHEN


async def test_the_multi_search_index_serves_searches_without_one(posts: type[Post]) -> None:
    untargeted = AsyncSearch(doc_type=posts).filter("term", tags="java")
    ms = AsyncMultiSearch[Post](index=posts.index_name()).add(untargeted).params(max_concurrent_searches=1)
    [response] = await ms.execute()
    assert sorted(str(p.meta.id) for p in response) == ["p0", "p2", "p4"]


async def test_a_failed_search_raises_the_clients_own_error(posts: type[Post], index_prefix: str) -> None:
    ms = AsyncMultiSearch[Post]().add(posts.search()).add(posts.search(index=index_prefix + "missing"))
    with pytest.raises(NotFoundError) as caught:
        await ms.execute()
    assert caught.value.status_code == 404 and caught.value.error == "index_not_found_exception"
    assert caught.value.body["error"]["index"] == index_prefix + "missing"


async def test_a_bad_query_raises_bad_request(posts: type[Post]) -> None:
    ms = AsyncMultiSearch[Post]().add(posts.search().sort("body"))  # text fields cannot be sorted on
    with pytest.raises(BadRequestError) as caught:
        await ms.execute()
    assert caught.value.error == "search_phase_execution_exception"
    assert "Fielddata is disabled" in str(caught.value.body)


async def test_errors_can_be_reported_in_place(posts: type[Post], index_prefix: str) -> None:
    ms = (
        AsyncMultiSearch[Post]()
        .add(posts.search().filter("term", tags="python"))
        .add(posts.search(index=index_prefix + "missing"))
        .add(posts.search().filter("term", tags="java"))
    )
    python, missing, java = await ms.execute(raise_on_error=False)
    assert not isinstance(python, ApiError) and len(python) == 3
    assert isinstance(missing, NotFoundError) and missing.status_code == 404
    assert not isinstance(java, ApiError) and len(java) == 3
    with pytest.raises(NotFoundError):  # the cached results, read with the default
        await ms.execute()


async def test_a_hit_that_fails_validation_raises_with_its_id_even_when_errors_are_reported(
    posts: type[Post], odm_client: AsyncElasticsearch
) -> None:
    await odm_client.index(
        index=posts.index_name(), id="bad", document={"title": "no date", "tags": ["java"]}, refresh=True
    )
    ms = AsyncMultiSearch[Post]().add(posts.search().filter("term", tags="java"))
    with pytest.raises(HitValidationError) as caught:
        await ms.execute(raise_on_error=False)
    assert caught.value.id == "bad" and "created_at" in str(caught.value)


async def test_results_are_cached_until_ignore_cache(posts: type[Post]) -> None:
    ms = AsyncMultiSearch[Post]().add(posts.search().filter("term", tags="python"))
    [before] = await ms.execute()
    await posts(title="post 6", tags=["python"], created_at=WHEN, meta={"id": "p7"}).save(refresh=True)
    [cached] = await ms.execute()
    [fresh] = await ms.execute(ignore_cache=True)
    assert cached is before and before.hits.total.value == 3 and fresh.hits.total.value == 4
