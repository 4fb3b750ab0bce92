"""Multi search: several typed searches in one request, answered in order."""

import asyncio
import os
from datetime import datetime
from typing import Annotated

from elasticsearch import ApiError

from odm import AsyncDocument, AsyncMultiSearch, AsyncSearch, Keyword, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "msearch-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Page(AsyncDocument):
    title: str

    class Index:
        name = PREFIX + "msearch-pages"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()
    await Page.init()
    for n, tag in enumerate(["python", "python", "search"]):
        post = Post(title=f"post {n}", tags=[tag], views=n, created_at=datetime(2026, 11, n + 1), meta={"id": str(n)})
        await post.save(refresh=True)
    await Page(title="about python", meta={"id": "about"}).save(refresh=True)

    # One model: AsyncMultiSearch[Post], and every response is a Response[Post].
    ms = AsyncMultiSearch[Post]()
    ms = ms.add(Post.search().filter("term", tags="python").sort("-views"))
    ms = ms.add(Post.search().filter("term", tags="search"))
    python, search = await ms.execute()
    print([post.title for post in python], search.hits.total.value)  # ['post 1', 'post 0'] 1
    assert python.search is ms[0]  # each response knows the search it answers

    # Several models: add() widens the type to AsyncMultiSearch[Post | Page].
    mixed = AsyncMultiSearch[Post]().add(Post.search()).add(Page.search())
    posts, pages = await mixed.execute()
    print(len(posts), [page.title for page in pages])  # 3 ['about python']

    # Untyped, as on the elasticsearch-dsl page: hits are attribute dicts.
    untyped = AsyncMultiSearch(index=Page.index_name()).add(AsyncSearch().query("match", title="python"))
    [response] = await untyped.execute()
    print([hit.title for hit in response])  # ['about python']

    # A failed search raises the client's own error (here NotFoundError) by default;
    # raise_on_error=False puts the error in that search's place instead.
    risky = AsyncMultiSearch[Post]().add(Post.search()).add(Post.search(index=PREFIX + "msearch-missing"))
    for result in await risky.execute(raise_on_error=False):
        if isinstance(result, ApiError):
            print("failed:", result.status_code, result.error)  # failed: 404 index_not_found_exception
        else:
            print("found", len(result), "posts")


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
