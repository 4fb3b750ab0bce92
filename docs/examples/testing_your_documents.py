"""Testing your own documents: each test binds the classes to its own index prefix with isolated()."""

import asyncio
import os
from typing import Annotated

from odm import AsyncDocument, Keyword
from odm.testing.isolation import isolated

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Article(AsyncDocument):  # your application's class, with its real index name
    title: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "articles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    # In a test, index_prefix is the plugin's fixture; here it comes from the environment.
    Articles = isolated(Article, PREFIX)  # a subclass whose index is PREFIX + "articles"
    await Articles.init()
    await Articles(title="hello", meta={"id": "a1"}).save(refresh=True)
    found = await Articles.get("a1")
    assert isinstance(found, Article) and found.meta.index == PREFIX + "articles"
    assert [hit.title async for hit in Articles.search()] == ["hello"]


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
