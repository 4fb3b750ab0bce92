"""Faceted search: typed hits plus counts per tag, month, popularity and commenter."""

import asyncio
import os
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel

from odm import (
    AsyncDocument,
    AsyncFacetedSearch,
    AsyncSearch,
    DateHistogramFacet,
    HistogramFacet,
    Keyword,
    NestedFacet,
    RangeFacet,
    TermsFacet,
)

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Comment(BaseModel):
    author: Annotated[str, Keyword()]
    body: str


class Post(AsyncDocument):
    title: str
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    published: bool = True
    created_at: datetime
    comments: list[Comment] = []  # a list of models is "nested"

    class Index:
        name = PREFIX + "faceted-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class PostSearch(AsyncFacetedSearch[Post]):
    doc_types = [Post]  # the index is Post's
    fields = ["title^2", "tags"]  # what the query text is matched against
    facets = {
        "tags": TermsFacet(field="tags", size=20),
        "month": DateHistogramFacet(field="created_at", calendar_interval="month"),
        "popularity": RangeFacet(field="views", ranges=[("quiet", (None, 100)), ("popular", (100, None))]),
        "views": HistogramFacet(field="views", interval=100),
        "commenters": NestedFacet("comments", TermsFacet(field="comments.author")),
    }

    def search(self) -> AsyncSearch[Post]:
        # Override to narrow every search: only published posts are offered.
        return super().search().filter("term", published=True)


async def main() -> None:
    await Post.init()
    rows = [
        ("asyncio in python", ["python", "asyncio"], 150, datetime(2026, 10, 5), "ann"),
        ("python typing", ["python"], 40, datetime(2026, 11, 2), "bob"),
        ("python and elasticsearch", ["python", "search"], 320, datetime(2026, 11, 20), "ann"),
        ("a draft about python", ["python"], 0, datetime(2026, 11, 21), "bob"),
    ]
    for n, (title, tags, views, created_at, commenter) in enumerate(rows):
        post = Post(
            title=title,
            tags=tags,
            views=views,
            published=n != 3,
            created_at=created_at,
            comments=[Comment(author=commenter, body="nice")],
            meta={"id": str(n)},
        )
        await post.save(refresh=True)

    fs = PostSearch("python", filters={"month": date(2026, 11, 1)}, sort=["-views"])
    response = await fs[0:10].execute()  # slicing pages the hits
    for post in response:  # Post models, with meta.score and meta.highlight
        print(post.title, post.views, post.meta.highlight)
    print(response.hits.total.value, "of", await PostSearch("python").count(), "published python posts")

    # Each facet is a list of FacetValue(value, count, selected); a facet is counted
    # under the other facets' filters, so "month" still offers October.
    for month, count, selected in response.facets.month:
        print(month.strftime("%B %Y"), count, "(selected)" if selected else "")
    for tag in response.facets.tags:
        print(tag.value, tag.count)
    print(response.facets.popularity)  # [FacetValue(value='quiet', count=1, ...), ...]
    print([(value.value, value.count) for value in response.facets.commenters])


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
