"""The benchmark document, written once per library, and deterministic data for it.

An article of 13 fields: text with a keyword sub-field, ~500 characters of body,
keywords, an ``author`` object, ``comments`` as nested objects, numbers, a flag and
two dates. The same document is declared for ``odm``, ``elasticsearch.dsl`` and
``elasticsearch.dsl.pydantic`` so each library runs on the same bytes. (No
``from __future__ import annotations``: the pydantic bridge reads ``__annotations__``.)
"""

import os
import random
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import orjson
from elasticsearch import dsl
from elasticsearch.dsl.pydantic import AsyncBaseESModel
from pydantic import BaseModel, create_model

from odm import AsyncDocument, Keyword, Text

__all__ = [
    "INDEX",
    "NAMES",
    "DslArticle",
    "OdmArticle",
    "PlainArticle",
    "PydanticArticle",
    "article_sources",
    "search_response",
]

#: Prepended to every index, alias and state index a benchmark creates (and deletes): the
#: benchmark test (tests/integration/test_benchmarks.py) gives each run its own prefix.
NAMES = os.environ.get("ODM_BENCH_INDEX_PREFIX", "")
INDEX = NAMES + "bench-articles"
_WORDS = (
    "elastic search index shard replica mapping query filter aggregate bucket metric "
    "document field keyword text token analyzer pipeline ingest snapshot cluster node "
    "python pydantic asyncio model validate serialize schema typed fast bulk stream"
).split()


# -- odm ---------------------------------------------------------------------------


class Author(BaseModel):
    name: Annotated[str, Text(fields={"raw": Keyword()})]
    email: Annotated[str, Keyword()]
    joined: datetime


class Comment(BaseModel):
    author: Annotated[str, Keyword()]
    body: str
    likes: int
    created_at: datetime


class OdmArticle(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    slug: Annotated[str, Keyword()]
    summary: str
    body: str
    tags: list[Annotated[str, Keyword()]]
    category: Annotated[str, Keyword()]
    author: Author
    comments: list[Comment]
    views: int
    rating: float
    published: bool
    created_at: datetime
    updated_at: datetime

    class Index:
        name = INDEX
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


# The same fields on a plain pydantic model, without meta: what pydantic itself costs.
_plain_fields: dict[str, Any] = {
    name: (info.rebuild_annotation(), ...) for name, info in OdmArticle.model_fields.items() if name != "meta"
}
PlainArticle = create_model("PlainArticle", **_plain_fields)


# -- elasticsearch.dsl -------------------------------------------------------------


class DslAuthor(dsl.InnerDoc):
    name = dsl.Text(fields={"raw": dsl.Keyword()})
    email = dsl.Keyword()
    joined = dsl.Date()


class DslComment(dsl.InnerDoc):
    author = dsl.Keyword()
    body = dsl.Text()
    likes = dsl.Long()
    created_at = dsl.Date()


class DslArticle(dsl.AsyncDocument):
    title = dsl.Text(fields={"raw": dsl.Keyword()})
    slug = dsl.Keyword()
    summary = dsl.Text()
    body = dsl.Text()
    tags = dsl.Keyword(multi=True)
    category = dsl.Keyword()
    author = dsl.Object(DslAuthor)
    comments = dsl.Nested(DslComment)
    views = dsl.Long()
    rating = dsl.Double()
    published = dsl.Boolean()
    created_at = dsl.Date()
    updated_at = dsl.Date()

    class Index:
        name = INDEX


# -- elasticsearch.dsl.pydantic ----------------------------------------------------
# Declared again, without Annotated metadata: the bridge cannot hash dsl field objects.


class PydanticAuthor(BaseModel):
    name: str
    email: str
    joined: datetime


class PydanticComment(BaseModel):
    author: str
    body: str
    likes: int
    created_at: datetime


class PydanticArticle(AsyncBaseESModel):  # type: ignore[metaclass]  # the bridge's own conflict
    title: str
    slug: str
    summary: str
    body: str
    tags: list[str]
    category: str
    author: PydanticAuthor
    comments: list[PydanticComment]
    views: int
    rating: float
    published: bool
    created_at: datetime
    updated_at: datetime

    class Index:
        name = INDEX


# -- data --------------------------------------------------------------------------


def _sentence(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(rng.choice(_WORDS))
    return " ".join(words).capitalize() + "."


def _when(rng: random.Random) -> str:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return (start + timedelta(seconds=rng.randrange(60 * 60 * 24 * 700))).isoformat()


def article_sources(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` article ``_source`` dicts, the same for a given seed."""
    rng = random.Random(seed)
    sources = []
    for number in range(count):
        name = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}"
        sources.append(
            {
                "title": _sentence(rng, 40),
                "slug": f"article-{number}",
                "summary": _sentence(rng, 120),
                "body": _sentence(rng, 500),
                "tags": rng.sample(_WORDS, 3),
                "category": rng.choice(_WORDS[:6]),
                "author": {
                    "name": name,
                    "email": f"{name.replace(' ', '.').lower()}@example.com",
                    "joined": _when(rng),
                },
                "comments": [
                    {
                        "author": rng.choice(_WORDS),
                        "body": _sentence(rng, 60),
                        "likes": rng.randrange(100),
                        "created_at": _when(rng),
                    }
                    for _ in range(2)
                ],
                "views": rng.randrange(100_000),
                "rating": round(rng.uniform(0, 5), 2),
                "published": rng.random() < 0.8,
                "created_at": _when(rng),
                "updated_at": _when(rng),
            }
        )
    return sources


def search_response(count: int) -> bytes:
    """The JSON bytes of a search response with ``count`` article hits."""
    hits = [
        {"_index": INDEX, "_id": str(number), "_score": 1.0, "_source": source}
        for number, source in enumerate(article_sources(count))
    ]
    body = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": count, "relation": "eq"}, "max_score": 1.0, "hits": hits},
    }
    return orjson.dumps(body)
