"""Typed search: queries, iteration, responses, aggregations, paging, partial sources."""

import asyncio
import os
from datetime import datetime, timedelta
from typing import Annotated

from odm import AsyncDocument, AsyncSearch, Keyword, Q, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "search-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()
    start = datetime(2026, 11, 1)
    for n in range(30):
        tags = ["python"] if n % 3 else ["elasticsearch", "python"]
        post = Post(title=f"Post number {n}", tags=tags, views=n, created_at=start + timedelta(days=n))
        await post.save(refresh=n == 29)  # the last save makes all of them searchable

    s = Post.search().query("match", title="number").filter("term", tags="python").sort("-views")
    async for post in s[:3]:  # post: Post, with post.meta.id / .score / .sort
        print(post.views, post.title, post.meta.id)

    s = s.extra(size=5).highlight("title")
    s.aggs.bucket("by_tag", "terms", field="tags")
    response = await s.execute()  # Response[Post]
    print(response.hits.total.value, response.took, response[0].meta.highlight)
    for bucket in response.aggregations.by_tag.buckets:
        print(bucket.key, bucket.doc_count)

    assert await Post.search().filter(Q("range", views={"gte": 10})).count() == 20
    everything = [post async for post in Post.search().iterate()]  # point in time + search_after
    assert len(everything) == 30

    titles = [post.title async for post in Post.search().source(["title"])[:2]]  # partial hits
    print(titles)

    untyped = await AsyncSearch(index=Post.index_name()).query("match", title="number").execute()
    print(untyped[0].meta.id, untyped[0].title)  # attribute-dict hits, as in elasticsearch-dsl


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
