"""CRUD: save, get, mget, update, optimistic concurrency, delete."""

import asyncio
import os
from datetime import datetime
from typing import Annotated

from odm import AsyncDocument, DocumentValidationError, Keyword, Text, VersionConflictError

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "crud-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()

    post = Post(title="Hello", created_at=datetime(2026, 11, 24), meta={"id": "p1"})
    await post.save(refresh=True)  # validated first; meta gets id, version, seq_no
    print(post.meta.id, post.meta.version, post.meta.seq_no)

    same = await Post.get("p1")  # -> Post; DocumentNotFoundError if missing
    assert await Post.get_or_none("nope") is None
    first, missing = await Post.mget(["p1", "nope"])  # order kept, None where missing
    assert first == same and missing is None

    await same.update(views=99, refresh=True)  # partial, validated, reflected in `same`
    assert same.views == 99

    try:
        await same.update(views="many")
    except DocumentValidationError as error:
        print("refused before sending:", error)

    # Optimistic concurrency, by default: a loaded document is written back only if the
    # stored one still has the seq_no/primary_term it was loaded with.
    a, b = await Post.get("p1"), await Post.get("p1")
    a.tags = ["first"]
    await a.save()
    b.tags = ["second"]
    try:
        await b.save()
    except VersionConflictError:
        print("b was loaded before a's change: reload and retry")

    try:
        await same.delete()  # `same` was loaded before a's change too
    except VersionConflictError:
        await (await Post.get("p1")).delete(refresh=True)
    assert not await Post.exists("p1")


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
