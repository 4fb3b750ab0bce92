"""A second document type, for searches that mix models (multi search)."""

from __future__ import annotations

from typing import Annotated

from odm import AsyncDocument, Keyword


class Page(AsyncDocument):
    title: str
    body: str = ""
    tags: list[Annotated[str, Keyword()]] = []

    class Index:
        name = "pages"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
