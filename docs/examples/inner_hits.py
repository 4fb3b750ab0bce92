"""Typed inner hits: nested objects as their models, each with its own meta; collapse groups."""

import asyncio
import os
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword, Q, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Comment(BaseModel):  # a plain pydantic model: a nested field
    author: Annotated[str, Keyword()]
    body: str
    likes: int = 0


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    blog: Annotated[str, Keyword()]
    comments: list[Comment] = []

    class Index:
        name = PREFIX + "inner-hits-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()
    await Post(
        title="Async Python",
        blog="python",
        comments=[Comment(author="bob", body="first", likes=1), Comment(author="ann", body="great post", likes=7)],
        meta={"id": "p1"},
    ).save()
    await Post(title="Typing", blog="python", comments=[Comment(author="ann", body="nice")], meta={"id": "p2"}).save()
    await Post(title="Streams", blog="java", meta={"id": "p3"}).save(refresh=True)

    by_ann = Q(
        "nested",
        path="comments",
        query=Q("term", comments__author="ann"),
        inner_hits={"name": "ann", "highlight": {"fields": {"comments.author": {}}}},
    )
    async for post in Post.search().query(by_ann).sort("title.raw"):
        assert post.meta.inner_hits is not None
        section = post.meta.inner_hits["ann"]  # InnerHits: .total, .max_score, the hits
        for hit in section.of(Comment):  # InnerHit[Comment], checked at run time
            assert hit.meta.nested is not None
            print(post.meta.id, hit.doc.body, hit.meta.nested.offset, hit.meta.score, hit.meta.highlight)
            assert post.comments[hit.meta.nested.offset] == hit.doc

    latest = Post.search().collapse("blog", inner_hits={"name": "posts", "size": 3, "sort": ["title.raw"]})
    for top in await latest.sort("blog").execute():
        assert top.meta.inner_hits is not None
        titles = [member.doc.title for member in top.meta.inner_hits["posts"].of(Post)]  # documents of Post
        print(top.blog, titles)


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
