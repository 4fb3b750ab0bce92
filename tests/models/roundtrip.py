"""A document with one field of every value type odm maps, for the round-trip properties.

``bytes`` fields are only on the document itself: the nested models are plain pydantic
models with no ``bytes`` in them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Line(BaseModel):
    """An item of a ``nested`` list."""

    sku: Annotated[str, Keyword()]
    quantity: int
    price: float
    note: str | None = None
    shipped_at: datetime | None = None


class Address(BaseModel):
    """A single inner model: an ``object``."""

    street: str
    city: Annotated[str, Keyword()]
    postcode: str | None = None
    since: date | None = None


class Sample(AsyncDocument):
    count: int  # long: up to the int64 bounds
    ratio: float = 0.0  # double
    weight: float | None = None
    stamp: datetime  # date: aware (any whole-minute offset) or naive
    local: datetime | None = None
    day: date = date(2000, 1, 1)
    title: str = ""  # text
    label: Annotated[str, Keyword()] = ""
    data: bytes = b""  # binary: standard base64 in _source
    chunks: list[bytes] = []
    amount: Decimal = Decimal("0")  # double
    ident: uuid.UUID | None = None  # keyword
    color: Color = Color.RED  # keyword
    tags: list[Annotated[str, Keyword()]] = []
    scores: list[float] = []
    lines: list[Line] = []  # nested
    address: Address | None = None  # object
    note: str | None = None

    class Index:
        name = "samples"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
