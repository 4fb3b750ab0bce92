"""A small shop for the aggregation tests: keyword, bool, int, float and date fields, nested variants."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword


class Kind(str, enum.Enum):
    SHIRT = "shirt"
    HAT = "hat"


class Variant(BaseModel):
    size: Annotated[str, Keyword()]
    stock: int = 0


class Item(AsyncDocument):
    title: str
    color: Annotated[str, Keyword()]
    kind: Kind = Kind.SHIRT
    price: float = 0.0
    stock: int = 0
    in_stock: bool = True
    created_at: datetime
    variants: list[Variant] = []

    class Index:
        name = "aggs-items"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
