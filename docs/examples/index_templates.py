"""Indices and templates: an index built from a document, safe mapping changes, date-based indices."""

import asyncio
import os
from datetime import datetime
from typing import Annotated

from odm import AsyncDocument, AsyncIndex, AsyncMapping, Keyword, MappingConflictError, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tags: list[Annotated[str, Keyword()]] = []
    created_at: datetime

    class Index:
        name = PREFIX + "posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    # An index definition fed by a document: its mapping, settings and aliases.
    blog: AsyncIndex[Post] = AsyncIndex(PREFIX + "blog-v1")
    blog.document(Post)
    blog.aliases(**{PREFIX + "blog": {}})
    await blog.save()  # creates it; later runs apply compatible changes only
    await Post(title="Hello", created_at=datetime(2026, 11, 1), meta={"id": "1"}).save(index=blog._name, refresh=True)
    async for post in blog.search().query("match", title="hello"):  # post: Post
        print(post.meta.index, post.title)  # blog-v1 Hello

    # A field whose type changed is refused before anything is sent.
    class Retyped(AsyncDocument):
        title: Annotated[str, Keyword()]

    retyped: AsyncIndex[Retyped] = AsyncIndex(blog._name)
    retyped.document(Retyped)
    try:
        await retyped.save()
    except MappingConflictError as error:
        print(error.conflicts)  # ['title: the index has text, the model wants keyword']

    # The same comparison, by hand: the model's mapping against the live one.
    live = await AsyncMapping.from_es(blog._name)
    print(AsyncMapping.from_document(Retyped).diff(live).conflicts)

    # A new version of the index, and the alias moved to it in one step.
    blog_v2 = blog.clone(PREFIX + "blog-v2")
    await blog_v2.create()
    await blog_v2.update_aliases(
        [{"remove": {"index": blog._name, "alias": PREFIX + "blog"}}, {"add": {"alias": PREFIX + "blog"}}]
    )
    print(await blog_v2.exists_alias(name=PREFIX + "blog"))  # True

    # Date-based indices: a composable template gives each new one Post's mapping.
    await Post.as_template(PREFIX + "posts", priority=10).save()  # pattern: <Index.name>-*
    post = Post(title="November", created_at=datetime(2026, 11, 24))
    await post.save(index=post.created_at.strftime(PREFIX + "posts-%Y-%m"), refresh=True)
    mapping = await AsyncMapping.from_es(PREFIX + "posts-2026-11")
    print(AsyncMapping.from_document(Post).diff(mapping).needs_update)  # False: the template's mapping
    async for hit in Post.search(index=PREFIX + "posts-*"):  # hits from any month are Post
        print(hit.meta.index, hit.title)  # posts-2026-11 November


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
