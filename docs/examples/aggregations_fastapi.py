"""A search endpoint that returns typed facets: the declared class is the response model."""

import asyncio
import os
from datetime import datetime, timezone
from typing import Annotated

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from odm import AsyncDocument, Keyword
from odm.aggs import Aggs, Avg, DateHistogram, Stats, Terms
from odm.fastapi import odm_lifespan

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Product(AsyncDocument):
    name: str
    color: Annotated[str, Keyword()]
    price: float
    created_at: datetime

    class Index:
        name = PREFIX + "api-agg-products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class ByColor(Aggs):
    price = Avg(Product.price)


class Facets(Aggs):
    colors = Terms(Product.color, size=20, aggs=ByColor)
    prices = Stats(Product.price)
    monthly = DateHistogram(Product.created_at, calendar_interval="month")


class ProductOut(BaseModel):
    id: str
    name: str
    price: float


class SearchPage(BaseModel):  # what the endpoint returns, and its OpenAPI schema
    total: int
    items: list[ProductOut]
    facets: Facets  # a declared aggregation class is a field type like any model


app = FastAPI(lifespan=odm_lifespan(Product))  # settings from ODM_ES_URL, ...


@app.get("/products", response_model=SearchPage)
async def search_products(color: str | None = None) -> SearchPage:
    s = Product.search().aggregate(Facets)
    if color is not None:
        s = s.post_filter(Product.color == color)  # the facets still count every color
    response = await s.execute()
    items = [ProductOut(id=p.meta.id or "", name=p.name, price=p.price) for p in response]
    return SearchPage(total=response.hits.total.value, items=items, facets=response.aggs(Facets))


async def main() -> None:
    transport = httpx.ASGITransport(app=app)  # runs the app in this process, no server
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        for n, (name, color, price, month) in enumerate([("tee", "red", 20.0, 10), ("polo", "red", 45.0, 11), ("coat", "blue", 180.0, 11)]):
            product = Product(name=name, color=color, price=price, created_at=datetime(2026, month, 3, tzinfo=timezone.utc))
            product.meta.id = str(n)
            await product.save(refresh=True)

        page = (await http.get("/products", params={"color": "blue"})).json()
        assert [item["name"] for item in page["items"]] == ["coat"]
        colors = page["facets"]["colors"]["buckets"]
        assert [(b["key"], b["doc_count"], b["price"]) for b in colors] == [("red", 2, 32.5), ("blue", 1, 180.0)]
        assert page["facets"]["prices"]["max"] == 180.0
        assert [b["key"] for b in page["facets"]["monthly"]["buckets"]] == ["2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"]
        print(page["facets"]["colors"]["buckets"][0])  # {'price': 32.5, 'key': 'red', 'doc_count': 2, ...}

        # The facets are in the OpenAPI schema, typed: a client generator sees price as a number.
        schema = (await http.get("/openapi.json")).json()["components"]["schemas"]
        bucket = schema["FacetsColorsBucket"]["properties"]
        print(bucket["key"], bucket["price"])  # {'type': 'string', ...} {'anyOf': [{'type': 'number'}, ...


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
