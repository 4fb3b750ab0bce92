"""Typed aggregations: declare them as a class, read the response into it, mypy knows every type."""

import asyncio
import os
from datetime import datetime, timezone
from typing import Annotated

from pydantic import BaseModel

from odm import AsyncDocument, Keyword
from odm.aggs import (
    Aggs,
    Avg,
    Composite,
    DateHistogram,
    DateHistogramSource,
    Nested,
    Range,
    Sources,
    Stats,
    Sum,
    Terms,
    TermsSource,
    TopHits,
)

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Variant(BaseModel):
    size: Annotated[str, Keyword()]
    stock: int = 0


class Product(AsyncDocument):
    name: str
    color: Annotated[str, Keyword()]
    price: float
    on_sale: bool = False
    created_at: datetime
    variants: list[Variant] = []  # a list of models is "nested"

    class Index:
        name = PREFIX + "agg-products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class ByColor(Aggs):  # the sub-aggregations of one color bucket
    price = Avg(Product.price)  # float | None
    cheapest = TopHits(Product, size=1, sort=[{"price": "asc"}])  # list[Product]


class BySize(Aggs):
    stock = Sum(Product.variants.stock)  # float


class InVariants(Aggs):
    sizes = Terms(Product.variants.size, aggs=BySize)


class Facets(Aggs):
    colors = Terms(Product.color, size=10, aggs=ByColor)  # keys: str
    sale = Terms(Product.on_sale)  # keys: bool
    prices = Stats(Product.price)  # StatsResult
    bands = Range(Product.price, ranges=[{"to": 50}, {"from": 50, "key": "dear"}])
    monthly = DateHistogram(Product.created_at, calendar_interval="month")  # keys: aware UTC datetime
    variants = Nested(Product.variants, aggs=InVariants)


class ColorMonth(Sources):  # the typed key of a composite aggregation
    color = TermsSource(Product.color)
    month = DateHistogramSource(Product.created_at, calendar_interval="month")


class Combinations(Aggs):
    pairs = Composite(ColorMonth, size=2)


async def main() -> None:
    await Product.init()
    rows = [
        ("tee", "red", 20.0, True, datetime(2026, 10, 3, tzinfo=timezone.utc), [Variant(size="M", stock=4)]),
        ("polo", "red", 45.0, False, datetime(2026, 11, 12, tzinfo=timezone.utc), [Variant(size="L", stock=1)]),
        ("coat", "blue", 180.0, False, datetime(2026, 11, 20, tzinfo=timezone.utc), []),
    ]
    for n, (name, color, price, on_sale, created_at, variants) in enumerate(rows):
        product = Product(name=name, color=color, price=price, on_sale=on_sale, created_at=created_at, variants=variants)
        product.meta.id = str(n)
        await product.save(refresh=True)

    s = Product.search().filter(Product.price < 1000).aggregate(Facets)  # dsl's own A(...) objects
    response = await s.execute()
    facets = response.aggs(Facets)  # validated in one pydantic-core call

    for bucket in facets.colors.buckets:  # bucket.key: str, bucket.doc_count: int
        cheapest = bucket.aggs.cheapest[0]  # a Product, with meta
        print(bucket.key, bucket.doc_count, bucket.aggs.price, cheapest.name, cheapest.meta.id)
    print([(b.key, b.doc_count) for b in facets.sale.buckets])  # [(False, 2), (True, 1)]
    print(facets.prices.min, facets.prices.max, facets.prices.avg)  # 20.0 180.0 81.66...
    print([(b.key, b.doc_count) for b in facets.bands.buckets])  # [('*-50.0', 2), ('dear', 1)]
    print([b.key.strftime("%Y-%m") for b in facets.monthly.buckets])  # ['2026-10', '2026-11']
    print({b.key: b.aggs.stock for b in facets.variants.aggs.sizes.buckets})  # {'L': 1.0, 'M': 4.0}

    # The untyped elasticsearch.dsl result is still there, for the same request.
    print(response.aggregations.colors.buckets[0].price.value)

    # Every page of a composite aggregation; each key is a typed ColorMonth.
    async for page in Product.search().composite_pages(Combinations):
        print([(b.key.color, b.key.month.month, b.doc_count) for b in page.pairs.buckets])


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
