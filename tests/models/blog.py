"""The blog of the design contract: Post with an Author object and nested Comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword, Text


class Author(BaseModel):
    name: Annotated[str, Text(fields={"raw": Keyword()})]
    email: Annotated[str, Keyword()]


class Comment(BaseModel):
    author: Annotated[str, Keyword()]
    body: str
    created_at: datetime


class Post(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    body: str = ""
    tags: list[Annotated[str, Keyword()]] = []
    author: Author | None = None
    comments: list[Comment] = []
    views: int = 0
    created_at: datetime

    class Index:
        name = "posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
