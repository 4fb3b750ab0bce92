"""Examples users know from elasticsearch-dsl, run against odm as written.

Only index names are ours (every test has its own index prefix). Other sections of the
asyncio page are in test_seed_page_core.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, Keyword, Q
from odm.testing.isolation import isolated

# -- AsyncMultiSearch (the elasticsearch-dsl asyncio page) ------------------------------


@pytest.fixture
async def blogs(odm_client: AsyncElasticsearch, index_prefix: str) -> str:
    index = index_prefix + "blogs"
    for id, title, tags in [("1", "python rocks", ["python"]), ("2", "search rocks", ["elasticsearch"])]:
        await odm_client.index(index=index, id=id, document={"title": title, "tags": tags})
    await odm_client.indices.refresh(index=index)
    return index


async def test_async_multi_search_section(blogs: str, capsys: pytest.CaptureFixture[str]) -> None:
    from odm import AsyncMultiSearch, AsyncSearch

    ms = AsyncMultiSearch(index=blogs)

    ms = ms.add(AsyncSearch().filter('term', tags='python'))
    ms = ms.add(AsyncSearch().filter('term', tags='elasticsearch'))

    responses = await ms.execute()

    for response in responses:
        print("Results for query %r." % response.search.query)
        for hit in response:
            print(hit.title)

    lines = capsys.readouterr().out.splitlines()
    # elasticsearch.dsl's query proxy has no repr of its own: the page prints it as an object
    assert [line.startswith("Results for query <elasticsearch.dsl") for line in lines] == [True, False] * 2
    assert lines[1::2] == ["python rocks", "search rocks"]
    assert [response.search.query._proxied for response in responses] == [
        Q("bool", filter=[Q("term", tags="python")]),
        Q("bool", filter=[Q("term", tags="elasticsearch")]),
    ]


# -- AsyncFacetedSearch (the elasticsearch-dsl faceted search page, awaited) ------------
# Adapted where Elasticsearch 9 or the page itself requires it: ``interval=`` became
# ``calendar_interval=`` (Elasticsearch 8 removed ``interval``), and the page's filter on
# ``publish_from`` (a typo: no such field, so nothing would match) reads ``published_from``.


class ArticleDocument(AsyncDocument):
    title: str
    body: str = ""
    tags: list[Annotated[str, Keyword()]] = []
    published_from: datetime

    class Index:
        name = "articles"


@pytest.fixture
async def articles(odm_client: AsyncElasticsearch, index_prefix: str) -> type[ArticleDocument]:
    bound = isolated(ArticleDocument, index_prefix)
    await bound.init()
    for n, (title, tags, day) in enumerate(
        [
            ("python web frameworks", ["python", "web"], datetime(2015, 6, 3)),
            ("a python web server", ["python"], datetime(2015, 6, 20)),
            ("web design", ["web"], datetime(2015, 7, 1)),
        ]
    ):
        await bound(title=title, tags=tags, published_from=day, meta={"id": str(n)}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def test_faceted_search_page_example(
    articles: type[ArticleDocument], capsys: pytest.CaptureFixture[str]
) -> None:
    from odm import AsyncFacetedSearch, DateHistogramFacet, TermsFacet

    Article = articles

    class BlogSearch(AsyncFacetedSearch):
        doc_types = [Article, ]
        # fields that should be searched
        fields = ['tags', 'title', 'body']

        facets = {
            # use bucket aggregations to define facets
            'tags': TermsFacet(field='tags'),
            'publishing_frequency': DateHistogramFacet(field='published_from', calendar_interval='month')
        }

        def search(self):
            # override methods to add custom pieces
            s = super().search()
            return s.filter('range', published_from={'lte': 'now/h'})

    bs = BlogSearch('python web', {'publishing_frequency': date(2015, 6, 1)})
    response = await bs.execute()

    # access hits and other attributes as usual
    total = response.hits.total
    print('total hits', total.relation, total.value)
    for hit in response:
        print(hit.meta.score, hit.title)

    for (tag, count, selected) in response.facets.tags:
        print(tag, ' (SELECTED):' if selected else ':', count)

    for (month, count, selected) in response.facets.publishing_frequency:
        print(month.strftime('%B %Y'), ' (SELECTED):' if selected else ':', count)

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "total hits eq 2"
    assert sorted(line.split(" ", 1)[1] for line in lines[1:3]) == ["a python web server", "python web frameworks"]
    assert lines[3:] == [
        "python : 2",
        "web : 1",
        "June 2015  (SELECTED): 2",
        "July 2015 : 1",
    ]
