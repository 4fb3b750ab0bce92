"""AsyncFacetedSearch against the real node: typed hits, facet counts, filters, sort, pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    AsyncFacetedSearch,
    DateHistogramFacet,
    FacetValue,
    HistogramFacet,
    NestedFacet,
    RangeFacet,
    TermsFacet,
)
from odm.testing.isolation import isolated
from tests.models.blog import Comment, Post

MONTHS = [datetime(2026, 10, 1), datetime(2026, 11, 1), datetime(2026, 12, 1)]


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    """12 posts: views 0..11, tags python (even) / java (odd) / search (n % 3 == 0), months Oct-Dec."""
    bound = isolated(Post, index_prefix)
    await bound.init()
    for n in range(12):
        tags = ["python" if n % 2 == 0 else "java"] + (["search"] if n % 3 == 0 else [])
        commenter = "ann" if n < 3 else "bob"
        await bound(
            title=f"post {n} about {' and '.join(tags)}",
            tags=tags,
            views=n,
            created_at=MONTHS[n % 3].replace(day=10),
            comments=[Comment(author=commenter, body="nice", created_at=MONTHS[0])],
            meta={"id": f"p{n}"},
        ).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


def search_class(posts: type[Post]) -> type[AsyncFacetedSearch[Post]]:
    class PostSearch(AsyncFacetedSearch[Post]):
        doc_types = [posts]
        fields = ["title"]
        facets = {
            "tags": TermsFacet(field="tags"),
            "month": DateHistogramFacet(field="created_at", calendar_interval="month"),
            "popularity": RangeFacet(field="views", ranges=[("low", (None, 4)), ("high", (4, None))]),
            "views": HistogramFacet(field="views", interval=5),
            "commenters": NestedFacet("comments", TermsFacet(field="comments.author")),
        }

    return PostSearch


async def test_no_filter_counts_every_facet_and_hits_are_models(posts: type[Post]) -> None:
    response = await search_class(posts)().execute()
    assert response.hits.total.value == 12 and len(response) == 10
    assert all(isinstance(hit, posts) and hit.meta.id for hit in response)
    facets = response.facets
    assert facets.tags == [FacetValue("java", 6, False), FacetValue("python", 6, False), FacetValue("search", 4, False)]
    assert facets.month == [FacetValue(month, 4, False) for month in MONTHS]
    assert facets.popularity == [FacetValue("low", 4, False), FacetValue("high", 8, False)]
    assert facets.views == [FacetValue(0.0, 5, False), FacetValue(5.0, 5, False), FacetValue(10.0, 2, False)]
    assert facets.commenters == [FacetValue("bob", 9, False), FacetValue("ann", 3, False)]


async def test_a_filter_narrows_hits_and_other_facets_but_not_its_own(posts: type[Post]) -> None:
    response = await search_class(posts)(filters={"tags": "search"}).execute()
    assert sorted(hit.views for hit in response) == [0, 3, 6, 9]
    # its own facet still offers the other tags, counted without the filter
    assert FacetValue("search", 4, True) in response.facets.tags
    assert FacetValue("java", 6, False) in response.facets.tags
    # the other facets count only the filtered posts
    assert response.facets.month == [FacetValue(MONTHS[0], 4, False)]  # every "search" post is from October
    assert response.facets.popularity == [FacetValue("low", 2, False), FacetValue("high", 2, False)]


@pytest.mark.parametrize(
    ("facet", "value", "views"),
    [
        ("month", date(2026, 11, 1), [1, 4, 7, 10]),
        ("popularity", "low", [0, 1, 2, 3]),
        ("views", 10, [10, 11]),
        ("commenters", "ann", [0, 1, 2]),
        ("tags", ["search", "java"], [0, 1, 3, 5, 6, 7, 9, 11]),
    ],
)
async def test_each_kind_of_facet_filters_and_marks_the_selected_value(
    posts: type[Post], facet: str, value: Any, views: list[int]
) -> None:
    fs = search_class(posts)(filters={facet: value})
    response = await fs[0:20].execute()
    assert sorted(hit.views for hit in response) == views
    selected = [fv.value for fv in response.facets[facet] if fv.selected]
    wanted = value if isinstance(value, list) else [value]
    assert len(selected) == len(wanted)
    assert await fs.count() == len(views)


async def test_query_text_sort_and_pages(posts: type[Post]) -> None:
    fs = search_class(posts)("python", sort=["-views"])
    page = await fs[2:4].execute()
    assert [hit.views for hit in page] == [6, 4]
    assert page.hits.total.value == 6 and page.query_string == "python"
    assert all("<em>python</em>" in (hit.meta.highlight or {})["title"][0] for hit in page)
    assert page.facets.tags[0] == FacetValue("python", 6, False)


async def test_a_query_object_is_used_as_it_is(posts: type[Post]) -> None:
    fs = search_class(posts)(posts.views >= 9, sort=["views"])
    page = await fs.execute()
    assert [hit.views for hit in page] == [9, 10, 11]
    assert page.facets.tags[0] == FacetValue("java", 2, False)
    assert await fs.count() == 3
