"""Bulk writes: many documents in chunks, and an account of every one of them."""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from odm import (
    AsyncDocument,
    BulkError,
    BulkItemError,
    BulkResult,
    CreateAction,
    DeleteAction,
    DocumentValidationError,
    Keyword,
    Text,
    UpdateAction,
)

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "bulk-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def report(result: BulkResult[Any]) -> None:
    print(f"{result.total} inputs done, {len(result.failed)} failed")  # or update a progress bar


async def main() -> None:
    await Post.init()

    # Documents: each is validated, sent in chunks, and its meta gets id, version, seq_no.
    posts = [Post(title=f"post {n}", views=n, created_at=datetime(2026, 11, 24), meta={"id": f"p{n}"}) for n in range(1000)]
    posts[7].tags.append(42)  # type: ignore[arg-type]  # changed in place: pydantic did not see it
    result = await Post.bulk(posts, refresh=True, progress=report)
    print(result)  # <BulkResult: 999 succeeded, 1 failed, 0 not attempted>
    [invalid] = result.failed
    assert isinstance(invalid.error, DocumentValidationError) and invalid.document is posts[7]
    print(invalid.position, invalid.error)  # 7 Post document ... is invalid, nothing was sent: tags.0: ...
    print(posts[0].meta.id, posts[0].meta.seq_no, posts[0].meta.primary_term)  # p0 0 1

    # Actions: create (only if new), partial update (validated), delete; by document or by id.
    result = await Post.bulk(
        [
            CreateAction(Post(title="again", created_at=datetime(2026, 11, 25), meta={"id": "p0"})),
            UpdateAction(posts[1], {"views": 100}),  # posts[1].views is 100 once it succeeded
            UpdateAction("p2", {"tags": ["python"]}),  # by id: validated against Post
            DeleteAction("p3"),
        ],
        refresh=True,
    )
    [conflict] = result.failed
    assert isinstance(conflict.error, BulkItemError)
    print(conflict.error.status, conflict.error.type)  # 409 version_conflict_engine_exception
    print([s.result for s in result.succeeded], posts[1].views)  # ['updated', 'updated', 'deleted'] 100

    # A stream is read only as fast as Elasticsearch takes it; raise_on_error wants all or an error.
    async def stream() -> AsyncIterator[Post]:
        for n in range(1000, 3000):
            yield Post(title=f"post {n}", created_at=datetime(2026, 11, 26))

    result = await Post.bulk(stream(), chunk_size=500, raise_on_error=True)
    print(len(result.succeeded))  # 2000
    try:
        await Post.bulk([CreateAction(posts[0])], raise_on_error=True)
    except BulkError as error:
        print(error)  # bulk write incomplete: 0 succeeded, 1 failed, 0 not attempted; first error: ...
        assert error.result.failed[0].document is posts[0]


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
