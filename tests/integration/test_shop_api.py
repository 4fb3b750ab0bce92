"""examples/shop_api against the real node, through httpx.ASGITransport.

Each test imports the service afresh with ``ODM_INDEX_PREFIX`` set to its own prefix
(the service reads its settings at import, as a deployed one does), runs its
lifespan, and checks what the node holds, not only what the API answers. Hostile
input throughout: ``meta`` in a body, ``..`` ids, stale ``If-Match``, tampered cursors,
invalid bodies whose errors hold ``Decimal`` values.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from odm import get_client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "shop_api_openapi.json"
SECRET = "a shop test secret, long enough."


@dataclass
class Shop:
    http: httpx.AsyncClient
    app: ModuleType  # shop_api.app
    models: ModuleType  # shop_api.models


def _forget_shop_api() -> None:
    for name in [name for name in sys.modules if name == "shop_api" or name.startswith("shop_api.")]:
        del sys.modules[name]


@pytest.fixture
def shop_modules(
    es_url: str, index_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, ModuleType]]:
    """shop_api imported afresh, its settings read from this test's environment."""
    monkeypatch.setenv("ODM_ES_URL", es_url)
    monkeypatch.setenv("ODM_INDEX_PREFIX", index_prefix)
    monkeypatch.setenv("SHOP_CURSOR_SECRET", SECRET)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    _forget_shop_api()
    try:
        yield importlib.import_module("shop_api.app"), importlib.import_module("shop_api.models")
    finally:
        _forget_shop_api()


@pytest.fixture
async def shop(shop_modules: tuple[ModuleType, ModuleType]) -> AsyncIterator[Shop]:
    app, models = shop_modules
    transport = httpx.ASGITransport(app=app.app)
    async with app.app.router.lifespan_context(app.app), httpx.AsyncClient(
        transport=transport, base_url="http://shop"
    ) as http:
        yield Shop(http, app, models)


def product(sku: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": sku, "name": f"product {sku}", "category": "books", "price": "10.00"}
    body.update(fields)
    return body


async def stored(index: str, doc_id: str) -> dict[str, Any]:
    return dict((await get_client().get(index=index, id=doc_id)).body)


# -- CRUD -------------------------------------------------------------------------------------------


async def test_create_read_update_delete_a_product(shop: Shop, index_prefix: str) -> None:
    body = product(
        "B-1",
        name="Dune",
        price="19.90",
        sale_price="14.95",
        variants=[{"sku": "B-1-HC", "color": "blue", "stock": 3}, {"sku": "B-1-PB"}],
        available_from="2026-12-01",
    )
    created = await shop.http.post("/products", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "B-1" and created.json()["price"] == "19.90"
    assert created.json()["variants"][0] == {"sku": "B-1-HC", "color": "blue", "size": None, "stock": 3}
    source = (await stored(index_prefix + "shop-products", "B-1"))["_source"]
    assert source["price"] == "19.90" and source["category"] == "books" and source["available_from"] == "2026-12-01"

    read = await shop.http.get("/products/B-1")
    assert read.status_code == 200 and read.json() == created.json()
    tag = read.headers["ETag"]
    assert tag == created.headers["ETag"]

    changed = await shop.http.patch("/products/B-1", json={"price": "21.50"}, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["price"] == "21.50" and changed.json()["name"] == "Dune"
    assert changed.headers["ETag"] != tag

    stale = await shop.http.patch("/products/B-1", json={"price": "30.00"}, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    stale_delete = await shop.http.delete("/products/B-1", headers={"If-Match": tag})
    assert stale_delete.status_code == 412
    assert (await shop.http.get("/products/B-1")).json()["price"] == "21.50"

    deleted = await shop.http.delete("/products/B-1", headers={"If-Match": changed.headers["ETag"]})
    assert deleted.status_code == 204
    assert (await shop.http.get("/products/B-1")).status_code == 404
    assert (await shop.http.delete("/products/B-1")).status_code == 404
    assert (await shop.http.patch("/products/B-1", json={"price": "1"})).status_code == 404


async def test_a_duplicate_sku_is_a_conflict(shop: Shop) -> None:
    assert (await shop.http.post("/products", json=product("X"))).status_code == 201
    again = await shop.http.post("/products", json=product("X", name="other"))
    assert again.status_code == 409
    assert (await shop.http.get("/products/X")).json()["name"] == "product X"


async def test_meta_in_a_create_body_is_ignored(shop: Shop, index_prefix: str) -> None:
    hostile = product("M-1", meta={"id": "admin", "index": index_prefix + "shop-orders", "routing": "x"}, id="admin")
    created = await shop.http.post("/products", json=hostile)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "M-1"
    raw = await stored(index_prefix + "shop-products", "M-1")
    assert raw["_index"] == index_prefix + "shop-products" and "_routing" not in raw
    assert "meta" not in raw["_source"] and "id" not in raw["_source"]
    client = get_client()
    assert not await client.exists(index=index_prefix + "shop-products", id="admin")
    await client.indices.refresh(index=index_prefix + "shop-orders")
    assert (await client.count(index=index_prefix + "shop-orders"))["count"] == 0


async def test_a_dot_dot_id_is_refused(shop: Shop) -> None:
    assert (await shop.http.get("/products/%2E%2E")).status_code == 400
    assert (await shop.http.delete("/products/%2E%2E")).status_code == 400
    assert (await shop.http.get("/orders/%2E%2E")).status_code == 400
    # A SKU is also checked by its pattern, before odm's id check.
    assert (await shop.http.post("/products", json=product(".."))).status_code == 422


async def test_a_missing_document_is_404(shop: Shop) -> None:
    missing = await shop.http.get("/products/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "no document 'nope'"}
    assert (await shop.http.get("/orders/nope")).status_code == 404


async def test_invalid_bodies_are_422_and_json_safe(shop: Shop, index_prefix: str) -> None:
    # FastAPI's own 422: the body fails the derived schema.
    for body in (
        product("I-1", price="-1"),
        product("I-1", price="1.234"),  # more than 2 decimal places
        product("I-1", category="food"),
        product("I-1", variants=[{"sku": "v", "stock": -1}]),
        {"sku": "I-1"},
    ):
        answer = await shop.http.post("/products", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert json.loads(answer.text)["detail"]
    # odm's 422: the whole document fails its validator; its context holds Decimals.
    answer = await shop.http.post("/products", json=product("I-1", price="5.00", sale_price="7.50"))
    assert answer.status_code == 422, answer.text
    [error] = json.loads(answer.text)["detail"]
    assert error["type"] == "sale_price_above_price" and error["loc"] == ["body"]
    assert error["msg"] == "the sale price 7.50 is above the price 5.00"
    assert "input" not in error and json.dumps(error)
    dup = await shop.http.post("/products", json=product("I-1", variants=[{"sku": "v"}, {"sku": "v"}]))
    assert dup.status_code == 422 and "variant SKUs must be unique" in dup.text
    # An update that would break the validator: 422, nothing written.
    assert (await shop.http.post("/products", json=product("I-2", price="5.00", sale_price="4.00"))).status_code == 201
    answer = await shop.http.patch("/products/I-2", json={"price": "3.00"})
    assert answer.status_code == 422, answer.text
    assert json.loads(answer.text)["detail"][0]["ctx"] == {"sale_price": 4.0, "price": 3.0}
    assert (await stored(index_prefix + "shop-products", "I-2"))["_source"]["price"] == "5.00"
    assert (await shop.http.patch("/products/I-2", json={"sku": "I-3"})).status_code == 422
    assert (await shop.http.patch("/products/I-2", json={"price": None})).status_code == 422


# -- search and pagination --------------------------------------------------------------------------


async def _catalog(shop: Shop) -> None:
    rows = [
        ("A1", "Asyncio in Python", "books", "30.00"),
        ("A2", "Python typing", "books", "20.00"),
        ("A3", "Python: the game", "games", "20.00"),
        ("A4", "Elasticsearch songs", "music", "5.00"),
        ("A5", "Python wrench", "tools", "20.00"),
    ]
    bodies = [product(sku, name=name, category=category, price=price) for sku, name, category, price in rows]
    imported = await shop.http.post("/products/import", json=bodies)
    assert imported.status_code == 200 and imported.json()["succeeded"] == 5, imported.text


async def test_faceted_search_in_cursor_pages(shop: Shop) -> None:
    await _catalog(shop)
    first = await shop.http.get("/products", params={"q": "python", "sort": "price", "size": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [p["id"] for p in page["items"]] == ["A2", "A3"]  # 20.00 twice: the SKU breaks the tie
    counts = {c["value"]: (c["count"], c["selected"]) for c in page["categories"]}
    assert counts == {"books": (2, False), "games": (1, False), "tools": (1, False)}

    params = {"q": "python", "sort": "price", "size": 2, "cursor": page["next_cursor"]}
    second = (await shop.http.get("/products", params=params)).json()
    assert [p["id"] for p in second["items"]] == ["A5", "A1"] and second["next_cursor"] is None
    assert second["categories"] is None

    # A category filter narrows the hits; its facet still counts the other categories.
    params = {"q": "python", "category": ["books", "tools"], "sort": "-price"}
    books = (await shop.http.get("/products", params=params)).json()
    assert [p["id"] for p in books["items"]] == ["A1", "A2", "A5"]
    selected = {c["value"]: c["selected"] for c in books["categories"]}
    assert selected == {"books": True, "games": False, "tools": True}

    everything = (await shop.http.get("/products", params={"size": 100})).json()
    assert sorted(p["id"] for p in everything["items"]) == ["A1", "A2", "A3", "A4", "A5"]
    assert (await shop.http.get("/products", params={"category": "food"})).status_code == 422
    assert (await shop.http.get("/products", params={"size": 101})).status_code == 422


async def test_a_tampered_or_foreign_cursor_is_400(shop: Shop) -> None:
    await _catalog(shop)
    params: dict[str, Any] = {"q": "python", "sort": "price", "size": 1}
    cursor = (await shop.http.get("/products", params=params)).json()["next_cursor"]
    payload, mac = cursor.split(".")
    changed = "e30." + mac  # "{}" with the old signature
    for bad in (changed, payload + "." + mac[::-1], "x", "not.base64!", cursor + "." + mac):
        answer = await shop.http.get("/products", params={**params, "cursor": bad})
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["detail"].startswith("the cursor")
    foreign = await shop.http.get("/products", params={**params, "sort": "-price", "cursor": cursor})
    assert foreign.status_code == 400 and "another query" in foreign.json()["detail"]
    ok = await shop.http.get("/products", params={**params, "cursor": cursor})
    assert ok.status_code == 200 and [p["id"] for p in ok.json()["items"]] == ["A3"]


# -- bulk import ------------------------------------------------------------------------------------


async def test_bulk_import_of_json_lines_reports_every_product(shop: Shop, index_prefix: str) -> None:
    lines = [
        json.dumps(product("J1")),
        json.dumps(product("J2", price="-3")),  # fails the schema
        "",
        json.dumps(product("J3", price="2.00", sale_price="9.00")),  # fails the validator
        json.dumps(product("J4", meta={"index": "elsewhere"})),
        json.dumps(["not", "an", "object"]),
    ]
    answer = await shop.http.post(
        "/products/import", content="\n".join(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["succeeded"] == 2 and report["not_attempted"] == 0
    assert [(f["position"], f["sku"]) for f in report["failed"]] == [(1, "J2"), (3, "J3"), (5, None)]
    assert report["failed"][1]["errors"][0]["type"] == "sale_price_above_price"
    await get_client().indices.refresh(index=index_prefix + "shop-products")
    assert (await get_client().count(index=index_prefix + "shop-products"))["count"] == 2

    again = await shop.http.post("/products/import", json=[product("J1", name="renamed")])  # replaces
    assert again.json() == {"succeeded": 1, "failed": [], "not_attempted": 0}
    assert (await shop.http.get("/products/J1")).json()["name"] == "renamed"


async def test_bulk_import_refuses_what_is_not_a_list(shop: Shop) -> None:
    assert (await shop.http.post("/products/import", content=b"{nope")).status_code == 400
    assert (await shop.http.post("/products/import", json={"sku": "x"})).status_code == 400
    too_many = [product(f"T{n}") for n in range(1001)]
    assert (await shop.http.post("/products/import", json=too_many)).status_code == 400


# -- orders -----------------------------------------------------------------------------------------


async def test_an_order_is_priced_from_its_products(shop: Shop, index_prefix: str) -> None:
    await shop.http.post("/products", json=product("P1", price="10.00", sale_price="7.99", variants=[{"sku": "P1-L"}]))
    await shop.http.post("/products", json=product("P2", price="0.10"))
    body = {
        "customer": "ann@example.org",
        "lines": [{"sku": "P1", "variant": "P1-L", "quantity": 2}, {"sku": "P2", "quantity": 3}],
        "deliver_by": "2026-12-24",
        "meta": {"id": "mine"},
    }
    placed = await shop.http.post("/orders", json=body)
    assert placed.status_code == 201, placed.text
    receipt = placed.json()
    assert receipt["total"] == "16.28"
    assert [line["unit_price"] for line in receipt["order"]["lines"]] == ["7.99", "0.10"]
    order_id = receipt["order"]["id"]
    assert order_id != "mine" and receipt["order"]["status"] == "placed"
    assert (await shop.http.get(f"/orders/{order_id}")).json() == receipt
    source = (await stored(index_prefix + "shop-orders", order_id))["_source"]
    assert source["deliver_by"] == "2026-12-24" and source["lines"][1]["quantity"] == 3

    for lines in (
        [{"sku": "nope", "quantity": 1}],  # no such product
        [{"sku": "P2", "variant": "X", "quantity": 1}],  # no such variant
        [{"sku": "P1", "quantity": 0}],
        [{"sku": "..", "quantity": 1}],
        [],
    ):
        refused = await shop.http.post("/orders", json={**body, "lines": lines})
        assert refused.status_code == 422, (lines, refused.text)


# -- OpenAPI ----------------------------------------------------------------------------------------


def openapi_text(app: ModuleType) -> str:
    return json.dumps(app.app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_openapi_matches_the_snapshot(shop_modules: tuple[ModuleType, ModuleType]) -> None:
    """The API's contract changes only on purpose: regenerate with ODM_UPDATE_SNAPSHOTS=1 and review the diff."""
    text = openapi_text(shop_modules[0])
    if os.environ.get("ODM_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), f"no snapshot: run with ODM_UPDATE_SNAPSHOTS=1 to write {SNAPSHOT}"
    assert json.loads(text) == json.loads(SNAPSHOT.read_text()), "the OpenAPI document changed: see the diff above"
