"""Timestamps odm sets on every write: created_at once, updated_at on each write."""

import asyncio
import os
from datetime import datetime

from odm import AsyncDocument, UpdateAction
from odm.fastapi import create_schema, public_schema

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Article(AsyncDocument):
    title: str
    views: int = 0
    created_at: datetime | None = None  # set by odm when it writes a new document
    updated_at: datetime | None = None  # set by odm on every write

    class Index:
        name = PREFIX + "articles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        timestamps = True  # or ("created_at", "modified_at"): the two fields' names


async def main() -> None:
    article = Article(title="Hello", meta={"id": "a1"})
    await article.save(refresh=True)  # created_at == updated_at: odm's clock, UTC
    assert article.created_at is not None and article.created_at == article.updated_at
    created = article.created_at

    loaded = await Article.get("a1")
    await loaded.update(views=1)  # sends {"views": 1, "updated_at": ...}; never created_at
    await Article.update_by_id("a1", {"title": "Hello again"})
    await Article.bulk([UpdateAction("a1", {"views": 2})], refresh=True)
    again = await Article.get("a1")
    assert again.created_at == created and again.updated_at is not None and again.updated_at >= created

    # Server-owned in request schemas: shown to clients, never taken from a body.
    assert "created_at" not in create_schema(Article).model_fields
    assert "updated_at" in public_schema(Article).model_fields


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
