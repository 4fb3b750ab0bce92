"""Update by query: change every document a query matches (needs reindex and lang-painless)."""

import asyncio
import os
from datetime import datetime
from typing import Annotated

from odm import AsyncDocument, Keyword

# Elasticsearch runs update by query in its reindex module and scripts in lang-painless;
# the docs test skips this example on a node without them (odm's throwaway test node).
REQUIRES_MODULES = ["reindex", "lang-painless"]

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Post(AsyncDocument):
    title: str
    tags: list[Annotated[str, Keyword()]] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = PREFIX + "ubq-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Post.init()
    for n, tag in enumerate(["python", "python", "java"]):
        post = Post(title=f"post {n}", tags=[tag], views=n, created_at=datetime(2026, 11, 24), meta={"id": str(n)})
        await post.save()

    ubq = (
        Post.update_by_query()  # AsyncUpdateByQuery[Post] over Post's index
        .filter("term", tags="python")
        .script(source="ctx._source.views += params.n", lang="painless", params={"n": 100})
        .params(conflicts="proceed", refresh=True)
    )
    print(ubq.to_dict())  # the request body, for debugging
    result = await ubq.execute()  # UpdateByQueryResult
    print(result.total, result.updated, result.version_conflicts, result.success())  # 2 2 0 True
    for failure in result.failures:
        print(failure.index, failure.id, failure.cause.get("reason"))
    print([(await Post.get(str(n))).views for n in range(3)])  # [100, 101, 2]


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
