"""A product catalog: enums, UUIDs, aliases, dynamic objects and nested-in-nested models."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from odm import AsyncDocument, Keyword, Text


#: A type alias carrying a multi-field: the mypy plugin follows it to its source.
RawText = Annotated[str, Text(fields={"raw": Keyword()})]


class Status(str, enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class Review(BaseModel):
    stars: int
    by: Annotated[str, Keyword()]


class Variant(BaseModel):
    color: Annotated[str, Keyword()]
    reviews: list[Review] = []


class Product(AsyncDocument):
    sku: uuid.UUID
    name: Annotated[str, Text(fields={"words": Text(analyzer="whitespace"), "raw": Keyword()})]
    code: Annotated[str, Keyword()] = Field(default="", alias="productCode")
    brand: RawText = ""
    labels: list["RawText"] = []  # noqa: UP037 - a quoted forward reference, on purpose
    status: Status = Status.DRAFT
    released: datetime | None = None
    price: float = 0.0
    counts: dict[str, int] = {}
    variants: list[Variant] = []

    class Index:
        name = "products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
