"""``odm.fastapi.search_params``: typed query parameters as filters and a whitelisted sort.

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations.
"""

import enum
from decimal import Decimal
from typing import Annotated, Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from fastapi import Depends, FastAPI

from odm import ArgumentError, AsyncDocument, Keyword, Text
from odm.fastapi import SearchParams, install_exception_handlers, search_params
from odm.testing.isolation import isolated


class Category(str, enum.Enum):
    BOOKS = "books"
    TOOLS = "tools"


class Item(AsyncDocument):
    name: Annotated[str, Text()]
    category: Category
    tags: list[Annotated[str, Keyword()]] = []
    price: Decimal = Decimal(0)
    rating: float = 0.0
    title: Annotated[str, Text(fields={"raw": Keyword()})] = ""

    class Index:
        name = "query-items"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def app_for(items: type[Item]) -> FastAPI:
    app = FastAPI()
    install_exception_handlers(app)
    params_of = search_params(items, filters=["category", "tags"], sort=["price"])

    @app.get("/items")
    async def list_items(params: SearchParams[Item] = Depends(params_of)) -> list[str]:
        return [item.name async for item in params.apply(items.search())]

    return app


@pytest.fixture
async def items(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Item]:
    bound = isolated(Item, index_prefix)
    await bound.init()
    await bound.bulk(
        [
            bound(name="atlas", category=Category.BOOKS, tags=["maps"], price=Decimal(30), rating=4.5, title="B",
                  meta={"id": "1"}),
            bound(name="novel", category=Category.BOOKS, tags=["fiction", "paper"], price=Decimal(10), title="C",
                  meta={"id": "2"}),
            bound(name="hammer", category=Category.TOOLS, tags=["steel"], price=Decimal(20), title="A", meta={"id": "3"}),
        ],
        refresh=True,
    )
    return bound


async def get(app: FastAPI, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop") as client:
        return await client.get(url)


async def test_query_parameters_filter_and_sort(items: type[Item]) -> None:
    app = app_for(items)
    assert (await get(app, "/items?category=books&sort=-price")).json() == ["atlas", "novel"]
    assert (await get(app, "/items?tags=steel&tags=maps&sort=price")).json() == ["hammer", "atlas"]
    assert sorted((await get(app, "/items")).json()) == ["atlas", "hammer", "novel"]


async def test_a_value_or_sort_outside_the_model_or_the_whitelist_is_a_422(items: type[Item]) -> None:
    app = app_for(items)
    assert (await get(app, "/items?category=food")).status_code == 422
    assert (await get(app, "/items?sort=name")).status_code == 422  # not whitelisted
    schema = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert {p["name"] for p in schema} == {"category", "tags", "sort"}


def test_a_field_that_cannot_be_filtered_or_does_not_exist_is_refused_at_startup() -> None:
    with pytest.raises(ArgumentError, match="no field 'nope'"):
        search_params(Item, filters=["nope"])
    with pytest.raises(Exception, match="keyword"):  # a text field without a keyword sub-field
        search_params(Item, filters=["name"])


def hardened_app(items: type[Item], **options: Any) -> FastAPI:
    app = FastAPI()
    install_exception_handlers(app)
    params_of = search_params(items, filters=["tags", "rating", "price"], sort=["price", "title"], **options)

    @app.get("/items")
    async def list_items(params: SearchParams[Item] = Depends(params_of)) -> list[str]:
        return [item.name async for item in params.apply(items.search())]

    return app


async def test_non_finite_numbers_are_a_422(items: type[Item]) -> None:
    app = hardened_app(items)
    assert (await get(app, "/items?rating=4.5")).json() == ["atlas"]
    for field, value in [
        *[("rating", value) for value in ("nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400")],
        *[("price", value) for value in ("nan", "NaN", "sNaN", "inf", "-Infinity")],
    ]:
        answer = await get(app, f"/items?{field}={value}")  # was sent as invalid JSON: a 500
        assert answer.status_code == 422, (field, value, answer.text)
    assert (await get(app, "/items?price=1e400")).json() == []  # a finite Decimal: a number Elasticsearch takes


async def test_list_parameters_are_bounded(items: type[Item]) -> None:
    app = hardened_app(items)
    many = "&".join(f"tags=t{n}" for n in range(100)) + "&tags=steel"
    assert (await get(app, "/items?" + many)).status_code == 422  # 101 values
    assert (await get(app, "/items?" + many.split("&", 1)[1])).json() == ["hammer"]  # 100 values
    flood = "&".join(["tags=x"] * 9_000)  # 70,000 was a 500; httpx sends URLs of at most 64 KiB
    answer = await get(app, "/items?" + flood)
    assert answer.status_code == 422 and "100" in answer.text
    small = hardened_app(items, max_values=2)
    assert (await get(small, "/items?tags=a&tags=b&tags=steel")).status_code == 422
    with pytest.raises(ArgumentError, match="max_values"):
        search_params(items, filters=["tags"], max_values=0)


async def test_sort_choices_are_sortable_and_a_default_sort(items: type[Item]) -> None:
    with pytest.raises(ArgumentError, match=r"Item\.name cannot be a sort choice: .*text field without a keyword"):
        search_params(Item, sort=["name"])  # every sort on it was a 500
    with pytest.raises(ArgumentError, match="default_sort='views' is not one of the sort choices"):
        search_params(Item, sort=["price"], default_sort="views")
    app = hardened_app(items)
    assert (await get(app, "/items?sort=title")).json() == ["hammer", "atlas", "novel"]  # by title.raw
    assert (await get(app, "/items?sort=-title")).json() == ["novel", "atlas", "hammer"]
    by_default = hardened_app(items, default_sort="-price")
    assert (await get(by_default, "/items")).json() == ["atlas", "hammer", "novel"]
    assert (await get(by_default, "/items?sort=price")).json() == ["novel", "hammer", "atlas"]
