"""Typed queries: Post.views > 10 builds a query, and mypy checks the field and the value."""

import asyncio
import os
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel

from odm import A, AsyncDocument, FieldQueryError, Keyword, Q, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Author(BaseModel):  # a plain pydantic model: an "object" field of Post
    name: Annotated[str, Text(fields={"raw": Keyword()})]


class Comment(BaseModel):  # a list of models: a "nested" field of Post
    author: Annotated[str, Keyword()]
    created_at: datetime


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    body: str = ""
    tags: list[Annotated[str, Keyword()]] = []
    author: Author | None = None
    comments: list[Comment] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "typed-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()
    start = datetime(2026, 11, 1)
    rows = [
        ("Hello world", ["python"], "Ann", ["bob"], 3),
        ("Typed queries", ["python", "mypy"], "Bob", ["ann", "bob"], 42),
        ("Rust notes", ["rust"], None, [], 17),
    ]
    for n, (title, tags, author, commenters, views) in enumerate(rows):
        post = Post(
            title=title,
            tags=tags,
            author=Author(name=author) if author else None,
            comments=[Comment(author=who, created_at=start) for who in commenters],
            views=views,
            created_at=start + timedelta(days=n),
            meta={"id": f"p{n}"},
        )
        await post.save(refresh=n == len(rows) - 1)

    # At class level a field is an expression; on an instance it is the value.
    popular = Post.search().filter(Post.views > 10).sort(-Post.views)
    assert [post.meta.id async for post in popular] == ["p1", "p2"]
    assert [post.views async for post in popular] == [42, 17]

    # == on a text field compares whole values through its keyword sub-field (title.raw).
    assert await Post.search().filter(Post.title == "Rust notes").count() == 1
    assert await Post.search().query(Post.title.match("typed")).count() == 1

    # Objects and nested models: Post.comments.author wraps itself in a nested query.
    by_ann = Post.search().filter((Post.comments.author == "ann") & (Post.author.name.raw == "Bob"))
    assert [post.meta.id async for post in by_ann] == ["p1"]
    no_author = Post.search().filter(Post.author == None)  # noqa: E711 - "has no value"
    assert [post.meta.id async for post in no_author] == ["p2"]

    # Combine with &, |, ~ and with Q(...); values are serialized by the field's type.
    recent = (Post.created_at >= start + timedelta(days=1)) | Q("term", tags="rust")
    assert await Post.search().filter(recent & ~Post.tags.in_(["mypy"])).count() == 1

    # Anywhere elasticsearch.dsl takes a field name.
    s = Post.search().source([Post.title, Post.views]).highlight(Post.title).collapse(Post.author.name.raw)
    s.aggs.bucket("tags", A("terms", field=Post.tags))
    response = await s.query(Post.title.match("hello typed")).execute()
    print([(post.title, post.meta.highlight) for post in response.hits])
    print({bucket.key: bucket.doc_count for bucket in response.aggregations.tags.buckets})

    # mypy refuses Post.views > "ten"; at run time a wrong value is refused before sending.
    try:
        Post.body == "x"  # noqa: B015 - body is text without a keyword sub-field
    except FieldQueryError as error:
        print(error)


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
