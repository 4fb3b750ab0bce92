"""The shop's documents: products (with nested variants) and orders (with nested lines)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from odm import AsyncDocument, AsyncFacetedSearch, Keyword, TermsFacet, Text
from odm.fastapi import OdmSettings

# Read once, at import: the document classes need the index prefix when they are defined.
SETTINGS = OdmSettings.from_env()

_SKU_RULES = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
SKU = Annotated[str, Keyword(), _SKU_RULES]
OptionalSKU = Annotated[str | None, Keyword(), _SKU_RULES]  # the None inside: see docs/documents.md
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


def now() -> datetime:
    return datetime.now(timezone.utc)


class Category(str, Enum):  # keyword
    BOOKS = "books"
    GAMES = "games"
    MUSIC = "music"
    TOOLS = "tools"


class Variant(BaseModel):
    sku: SKU
    color: Annotated[str | None, Keyword()] = None
    size: Annotated[str | None, Keyword()] = None
    stock: int = Field(default=0, ge=0)


class Product(AsyncDocument):
    sku: SKU  # unique: the document id and the pagination tiebreaker
    name: Annotated[str, Text(fields={"raw": Keyword()})] = Field(min_length=1, max_length=200)
    description: str = ""
    category: Category
    price: Money  # a double in the mapping; _source keeps the exact decimal text
    sale_price: Money | None = None
    variants: list[Variant] = []  # a list of models: nested
    available_from: date | None = None
    created_at: datetime = Field(default_factory=now)

    @model_validator(mode="after")
    def _check_prices_and_variants(self) -> Product:
        if self.sale_price is not None and self.sale_price > self.price:
            raise PydanticCustomError(
                "sale_price_above_price",
                "the sale price {sale_price} is above the price {price}",
                {"sale_price": self.sale_price, "price": self.price},  # Decimals: answered JSON-safe
            )
        skus = [variant.sku for variant in self.variants]
        if len(set(skus)) != len(skus):
            raise ValueError("variant SKUs must be unique")
        return self

    class Index:
        name = SETTINGS.index_name("shop-products")
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class OrderStatus(str, Enum):
    PLACED = "placed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class OrderLine(BaseModel):
    sku: SKU
    variant: OptionalSKU = None
    quantity: int = Field(ge=1, le=1000)
    unit_price: Money


class Order(AsyncDocument):
    customer: Annotated[str, Keyword()] = Field(min_length=3, max_length=254)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)  # nested
    status: OrderStatus = OrderStatus.PLACED
    placed_at: datetime = Field(default_factory=now)
    deliver_by: date | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))

    class Index:
        name = SETTINGS.index_name("shop-orders")
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class ProductSearch(AsyncFacetedSearch[Product]):
    doc_types = [Product]
    fields = ["name^3", "description"]
    facets = {"category": TermsFacet(field="category", size=len(Category))}
