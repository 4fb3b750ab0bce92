"""``Response.search_after()`` against the real node: the next page from a response, to the end."""

from __future__ import annotations

from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, AsyncSearch, Keyword, Response, SearchStateError
from odm.testing.isolation import isolated


class Entry(AsyncDocument):
    name: Annotated[str, Keyword()]
    rank: int

    class Index:
        name = "entries"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def entries(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Entry]:
    bound = isolated(Entry, index_prefix)
    await bound.init()
    for n in range(23):
        await bound(name=f"e{n:02}", rank=n % 5, meta={"id": f"e{n:02}"}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def test_paging_to_the_end_with_the_response(entries: type[Entry]) -> None:
    s = entries.search().sort("rank", "name")[:5]
    response = await s.execute()
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen.extend(e.name for e in response)
        try:
            next_search = response.search_after()
        except SearchStateError:
            break  # the empty page after the last one
        assert isinstance(next_search, AsyncSearch) and next_search is not s
        response = await next_search.execute()
        assert isinstance(response, Response)
    expected = [name for _, name in sorted((n % 5, f"e{n:02}") for n in range(23))]
    assert seen == expected and pages == 6  # 5 pages of hits (5+5+5+5+3), then an empty one


async def test_the_next_page_keeps_the_search(entries: type[Entry]) -> None:
    s = entries.search().filter("range", rank={"gte": 3}).sort("-rank", "name").on_invalid("skip")[:4]
    first = await s.execute()
    following = first.search_after()
    assert following.to_dict()["search_after"] == first[-1].meta.sort
    assert following.to_dict()["query"] == s.to_dict()["query"] and following._on_invalid == "skip"
    second = await following.execute()
    assert [e.name for e in first] == ["e04", "e09", "e14", "e19"]
    assert [e.name for e in second] == ["e03", "e08", "e13", "e18"]
    assert s.search_after().to_dict() == following.to_dict()  # the search's own search_after(): one rule


async def test_an_empty_or_unsorted_response_is_a_clear_error(entries: type[Entry]) -> None:
    unsorted = await entries.search()[:3].execute()
    with pytest.raises(SearchStateError, match="needs a sorted search"):
        unsorted.search_after()
    empty = await entries.search().filter("term", name="nobody").sort("name").execute()
    with pytest.raises(SearchStateError, match="needs a response with hits"):
        empty.search_after()
    with pytest.raises(SearchStateError, match="must be executed"):
        entries.search().sort("name").search_after()


async def test_in_a_point_in_time_the_next_page_carries_its_id(entries: type[Entry]) -> None:
    async with entries.search().sort("name").extra(size=10).point_in_time() as pit_search:
        first = await pit_search.execute()
        following = first.search_after()
        assert following._extra["pit"]["id"] == first.pit_id
        second = await following.execute()
        third = await second.search_after().execute()
    assert [e.name for e in [*first, *second, *third]] == [f"e{n:02}" for n in range(23)]
