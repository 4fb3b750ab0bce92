"""Query values are typed as the model takes them: pydantic's lax mode for a few types."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from odm import AsyncDocument


class Status(str, enum.Enum):
    LIVE = "live"


class Level(enum.Enum):  # not a str enum: only members
    LOW = 1


class Product(AsyncDocument):
    price: Decimal = Decimal(0)
    status: Status = Status.LIVE
    level: Level = Level.LOW
    released: datetime | None = None
    sku: uuid.UUID | None = None
    views: int = 0

    class Index:
        name = "products"


def queries() -> None:
    Product.price >= 10
    Product.price.between(1.5, "20")
    Product.status == "live"
    Product.status.in_(["live", Status.LIVE])
    Product.released < "2026-11-29"
    Product.sku == "12345678-1234-5678-1234-567812345678"
    Product.level == Level.LOW
    Product.level == 1  # E: Unsupported operand types for == ("FieldExpr[Level]" and "int")  [operator]
    Product.views > "ten"  # E: Unsupported operand types for > ("FieldExpr[int]" and "str")  [operator]
    Product.price >= [1]  # E: Unsupported operand types for >= ("FieldExpr[Decimal]" and "list[int]")  [operator]
