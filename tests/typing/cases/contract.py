"""The design contract's user code, as mypy --strict (with ``plugins = odm.mypy``) sees it."""

from __future__ import annotations

from datetime import datetime

from elasticsearch.dsl.response import Hit

from odm import AsyncSearch, Meta, Response
from tests.models.blog import Author, Post


async def contract() -> None:
    post = Post(title="Hello", created_at=datetime.now(), meta={"id": "p1"})
    reveal_type(post)  # R: tests.models.blog.Post
    reveal_type(post.meta)  # R: odm.meta.Meta
    reveal_type(await post.save(refresh=True))  # R: str
    same = await Post.get("p1")
    reveal_type(same)  # R: tests.models.blog.Post
    reveal_type(await Post.get_or_none("p1"))  # R: tests.models.blog.Post | None
    s = Post.search().query("match", title="hello")
    reveal_type(s)  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    async for hit in s:
        reveal_type(hit)  # R: tests.models.blog.Post
        reveal_type(hit.meta.score)  # R: float | None
    response = await s.execute()
    reveal_type(response)  # R: odm.search._response.Response[tests.models.blog.Post]
    reveal_type(response.hits[0])  # R: tests.models.blog.Post
    reveal_type(response.hits.total.value)  # R: int
    s2 = Post.search().filter(Post.views > 10).sort(-Post.views)
    reveal_type(s2)  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type(await Post.search().query("match", title="hello").count())  # R: int
    reveal_type(Post.search(index="posts-read"))  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type(await Post.mget(["p1", "nope"]))  # R: list[tests.models.blog.Post | None]
    reveal_type(await same.update(views=99, refresh=True))  # R: str
    reveal_type(await same.update({"views": 99}, refresh=True))  # R: str
    reveal_type(await Post.update_by_id("p1", {"views": 99}))  # R: str
    await same.delete(refresh=True)
    reveal_type(AsyncSearch().query("match", title="python"))  # R: odm.search._search.AsyncSearch[elasticsearch.dsl.response.hit.Hit]
    untyped: Response[Hit] = await AsyncSearch().execute()
    reveal_type(untyped.hits[0])  # R: elasticsearch.dsl.response.hit.Hit


def construction_is_checked() -> None:
    Post(title="Hi", created_at=datetime.now(), meta=Meta(id="p2"))
    Post(title="Hi", created_at=datetime.now(), author=Author(name="Ann", email="a@b.c"), tags=["x"], views=1)
    Post(title=1, created_at=datetime.now())  # E: Argument "title" to "Post" has incompatible type "int"; expected "str"  [arg-type]
    Post(title="Hi")  # E: Missing named argument "created_at" for "Post"  [call-arg]
    Post(title="Hi", created_at=datetime.now(), tags="x")  # E: Argument "tags" to "Post" has incompatible type "str"; expected "list[str]"  [arg-type]


def assignment_is_checked(post: Post) -> None:
    post.views = 3
    post.views = "many"  # E: Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]


async def update_options_are_keywords(post: Post) -> None:
    await post.update("posts-v2")  # E: Argument 1 to "update" of "AsyncDocument" has incompatible type "str"; expected "Mapping[str, Any] | None"  [arg-type]
