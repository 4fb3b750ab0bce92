"""With pydantic's mypy plugin on too, declared aggregation classes raise no false errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword
from odm.aggs import Aggs, Avg, DateHistogram, Terms, TopHits


class Shop(AsyncDocument):
    color: Annotated[str, Keyword()]
    price: float = 0.0
    created_at: datetime

    class Index:
        name = "shop"


class ByColor(Aggs):
    price = Avg(Shop.price)
    best = TopHits(Shop, size=1)


class Facets(Aggs):
    colors = Terms(Shop.color, aggs=ByColor)
    monthly = DateHistogram(Shop.created_at, calendar_interval="month")


class Page(BaseModel):  # a response model holding the typed facets
    facets: Facets


def uses(facets: Facets, page: Page) -> None:
    reveal_type(facets.colors.buckets[0].key)  # R: str
    reveal_type(facets.colors.buckets[0].aggs.price)  # R: float | None
    reveal_type(facets.monthly.buckets[0].key)  # R: datetime.datetime
    reveal_type(page.facets.colors.buckets[0].aggs.best[0])  # R: tests.typing.with_pydantic_plugin.aggregations.Shop
    Avg(Shop.color)  # E: Argument 1 to "Avg" has incompatible type "FieldExpr[str]"; expected "FieldExpr[int] | FieldExpr[float] | FieldExpr[Decimal] | FieldExpr[datetime] | FieldExpr[date] | str"  [arg-type]
