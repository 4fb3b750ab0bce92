"""Types of inner hits, the invalid-document policy, mget(missing=) and Response.search_after()."""

from __future__ import annotations

from odm import AsyncSearch, InnerHit, InvalidHit
from tests.models.blog import Comment, Post


async def inner_hits() -> None:
    post = await Post.get("p1")
    reveal_type(post.meta.inner_hits)  # R: dict[str, odm.meta.InnerHits] | None
    assert post.meta.inner_hits is not None
    section = post.meta.inner_hits["comments"]
    reveal_type(section[0])  # R: odm.meta.InnerHit[Any] | dict[str, Any]
    reveal_type(section.total.value)  # R: int
    comments = section.of(Comment)
    reveal_type(comments)  # R: list[odm.meta.InnerHit[tests.models.blog.Comment]]
    reveal_type(comments[0].doc)  # R: tests.models.blog.Comment
    reveal_type(comments[0].meta.nested)  # R: odm.meta.NestedIdentity | None
    reveal_type(section.of(Post)[0].doc.meta.id)  # R: str | None
    section[0].doc  # E: Item "dict[str, Any]" of "InnerHit[Any] | dict[str, Any]" has no attribute "doc"  [union-attr]
    hit: InnerHit[Comment] = comments[0]
    hit.doc.title  # E: "Comment" has no attribute "title"  [attr-defined]


async def invalid_hits() -> None:
    s = Post.search().on_invalid("collect")
    reveal_type(s)  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    response = await s.execute()
    reveal_type(response.invalid_hits)  # R: list[odm._core.hits.InvalidHit]
    first: InvalidHit = response.invalid_hits[0]
    reveal_type(first.id)  # R: str | None
    reveal_type(first.source)  # R: dict[str, Any] | None
    reveal_type(s.invalid_hits)  # R: list[odm._core.hits.InvalidHit]
    Post.search().on_invalid("ignore")  # E: Argument 1 to "on_invalid" of "AsyncSearch" has incompatible type "Literal['ignore']"; expected "Literal['raise', 'skip', 'collect']"  [arg-type]


async def search_after() -> None:
    response = await Post.search().sort("created_at").execute()
    following = response.search_after()
    reveal_type(following)  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type((await following.execute()).hits[0])  # R: tests.models.blog.Post
    untyped = await AsyncSearch(index="posts").sort("x").execute()
    reveal_type(untyped.search_after())  # R: odm.search._search.AsyncSearch[elasticsearch.dsl.response.hit.Hit]


async def mget_missing() -> None:
    reveal_type(await Post.mget(["a"]))  # R: list[tests.models.blog.Post | None]
    reveal_type(await Post.mget(["a"], missing="none"))  # R: list[tests.models.blog.Post | None]
    reveal_type(await Post.mget(["a"], missing="raise"))  # R: list[tests.models.blog.Post]
    reveal_type(await Post.mget(["a"], missing="skip"))  # R: list[tests.models.blog.Post]
