"""The user code of shared/DESIGN.md ("The user's code"), run as written on the real node.

Only the index names carry the test's prefix, and an alias is created for the
``posts-read`` line; every call is the contract's.
"""

from __future__ import annotations

from datetime import datetime

from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, AsyncMultiSearch, Response, async_connections
from odm.testing import isolated
from tests.models.blog import Post as ContractPost


async def test_the_contract_runs_as_written(es_url: str, index_prefix: str) -> None:
    Post = isolated(ContractPost, index_prefix)  # noqa: N806 - the contract's name
    async_connections.create_connection(hosts=[es_url], timeout=20)
    try:
        await Post.init()  # create, or apply compatible mapping changes
        post = Post(title="Hello", created_at=datetime.now(), meta={"id": "p1"})
        await post.save(refresh=True)  # validated before it is sent
        same = await Post.get("p1")  # -> Post, validated
        assert isinstance(same, ContractPost) and same.title == "Hello"
        s = Post.search().query("match", title="hello")  # -> AsyncSearch[Post]
        seen = []
        async for hit in s:  # hit: Post
            seen.append((hit.title, hit.meta.id, hit.meta.score))
        assert seen and seen[0][:2] == ("Hello", "p1") and seen[0][2] is not None
        response = await s.execute()  # -> Response[Post]
        assert isinstance(response, Response) and response.hits.total.value == 1

        many_posts = [Post(title=f"Post {n}", views=n, created_at=datetime.now()) for n in range(20)]
        result = await Post.bulk(many_posts, refresh=True)  # .succeeded .failed .not_attempted
        assert (len(result.succeeded), len(result.failed), len(result.not_attempted)) == (20, 0, 0)

        s2 = Post.search().filter(Post.views > 10).sort(-Post.views)
        assert [p.views async for p in s2] == list(range(19, 10, -1))
        n = await Post.search().query("match", title="hello").count()
        assert n == 1
        client: AsyncElasticsearch = async_connections.get_connection()
        await client.indices.put_alias(index=Post.index_name(), name=index_prefix + "posts-read")
        via_alias = Post.search(index=index_prefix + "posts-read")  # hits are still Post
        assert {type(p) for p in [p async for p in via_alias]} == {Post}
        docs = await Post.mget(["p1", "nope"])  # [Post, None]: order kept, None where missing
        assert docs[0] is not None and docs[0].meta.id == "p1" and docs[1] is None
        await same.update(views=99, refresh=True)  # partial update, validated; `same` reflects it
        assert same.views == 99 and (await Post.get("p1")).views == 99
        ms = AsyncMultiSearch[ContractPost]().add(Post.search().filter(Post.views >= 99))
        [top] = await ms.execute()
        assert [p.meta.id for p in top] == ["p1"]
        await same.delete(refresh=True)
        assert await Post.get_or_none("p1") is None
    finally:
        await async_connections.get_connection().close()
        await async_connections.close()


def test_the_contract_documents_are_pydantic_models() -> None:
    assert issubclass(ContractPost, AsyncDocument)
    assert "meta" not in ContractPost.model_json_schema()["properties"]
