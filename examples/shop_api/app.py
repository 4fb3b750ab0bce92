"""The shop's HTTP API: products (CRUD, faceted search with cursor pages, bulk import) and orders."""

from __future__ import annotations

import json
import os
import secrets
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from odm import AsyncSearch, DocumentValidationError
from odm.fastapi import (
    apply_if_match,
    create_schema,
    etag,
    install_exception_handlers,
    new_document,
    odm_lifespan,
    paginate,
    public_schema,
    to_public,
    update_schema,
    validation_errors,
)

from .models import SETTINGS, SKU, Category, OptionalSKU, Order, OrderLine, Product, ProductSearch

# Signs the pagination cursors: in production, one secret shared by every worker.
CURSOR_SECRET = os.environ.get("SHOP_CURSOR_SECRET") or secrets.token_hex(32)
MAX_IMPORT = 1000  # documents per import request

if TYPE_CHECKING:  # mypy cannot see classes made by create_model: it checks them as BaseModel
    ProductCreate = BaseModel
    ProductUpdate = BaseModel
    ProductPublic = BaseModel
    OrderPublic = BaseModel
else:
    ProductCreate = create_schema(Product)  # every field, no meta
    ProductUpdate = update_schema(Product)  # every field optional
    ProductPublic = public_schema(Product)  # the fields and "id"
    OrderPublic = public_schema(Order)


class CategoryCount(BaseModel):
    value: Category
    count: int
    selected: bool


class ProductPage(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None = Field(description="pass it back as ?cursor= for the next page; null on the last")
    categories: list[CategoryCount] | None = Field(description="the category facet, on the first page only")


class ImportFailure(BaseModel):
    position: int = Field(description="0-based: the index in the array, or the line number - 1")
    sku: str | None
    errors: list[dict[str, Any]]


class ImportReport(BaseModel):
    succeeded: int
    failed: list[ImportFailure]
    not_attempted: int


class LineRequest(BaseModel):
    sku: SKU
    variant: OptionalSKU = None
    quantity: int = Field(ge=1, le=1000)


class OrderRequest(BaseModel):
    customer: str = Field(min_length=3, max_length=254)
    lines: list[LineRequest] = Field(min_length=1, max_length=100)
    deliver_by: date | None = None


class OrderReceipt(BaseModel):
    order: OrderPublic
    total: Decimal


app = FastAPI(title="shop", lifespan=odm_lifespan(Product, Order, settings=SETTINGS))
install_exception_handlers(app)


# -- products -------------------------------------------------------------------------------------


@app.post("/products", status_code=201, response_model=ProductPublic)
async def create_product(body: ProductCreate, response: Response) -> Any:
    product = new_document(Product, body)  # a "meta" in the body was dropped
    product.meta.id = product.sku
    await product.save(op_type="create", refresh="wait_for")  # an existing SKU: 409
    response.headers["ETag"] = etag(product)
    return to_public(product)


@app.get("/products/{sku}", response_model=ProductPublic)
async def read_product(sku: str, response: Response) -> Any:
    product = await Product.get(sku)  # missing: 404; "..": 400
    response.headers["ETag"] = etag(product)
    return to_public(product)


@app.patch("/products/{sku}", response_model=ProductPublic)
async def update_product(
    sku: str, body: ProductUpdate, response: Response, if_match: Annotated[str | None, Header()] = None
) -> Any:
    product = await Product.get(sku)
    apply_if_match(product, if_match)  # a stale ETag: 412
    changes = body.model_dump(exclude_unset=True)
    if changes.get("sku", sku) != sku:
        raise HTTPException(422, "the sku is the product's id: it cannot change")
    await product.update(changes, refresh="wait_for")  # the whole product is validated again
    response.headers["ETag"] = etag(product)
    return to_public(product)


@app.delete("/products/{sku}", status_code=204)
async def delete_product(sku: str, if_match: Annotated[str | None, Header()] = None) -> None:
    product = await Product.get(sku)
    apply_if_match(product, if_match)
    await product.delete(refresh="wait_for")


@app.get("/products", response_model=ProductPage)
async def search_products(
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    sort: Literal["relevance", "price", "-price", "-created_at"] = "relevance",
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    filters = {"category": [c.value for c in category]} if category else None
    faceted = ProductSearch(q, filters=filters, sort=[] if sort == "relevance" else [sort])
    # The hits: the faceted search's query, filters and sort, in signed search_after pages (paginate()
    # returns the hits only, so the facets are asked for on their own, on the first page).
    search = cast("AsyncSearch[Product]", faceted.build_search())
    page = await paginate(search, cursor, size=size, secret=CURSOR_SECRET, tiebreaker="sku")
    categories = None
    if cursor is None:  # the counts do not change from page to page
        facets = (await faceted[0:0].execute()).facets
        categories = [CategoryCount(value=v.value, count=v.count, selected=v.selected) for v in facets.category]
    return {"items": [to_public(p) for p in page.items], "next_cursor": page.next_cursor, "categories": categories}


_IMPORT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/ProductCreate"}}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one ProductCreate per line"}},
    },
}


@app.post("/products/import", response_model=ImportReport, openapi_extra={"requestBody": _IMPORT_BODY})
async def import_products(request: Request) -> Any:
    """Create or replace products in bulk, from a JSON array or JSON lines; reports every product."""
    raw = await request.body()
    items: list[tuple[int, Any]] | None
    try:
        if request.headers.get("content-type", "").startswith("application/x-ndjson"):
            lines = raw.splitlines()
            items = [(n, json.loads(line)) for n, line in enumerate(lines) if line.strip()]
        else:
            array = json.loads(raw)
            items = list(enumerate(array)) if isinstance(array, list) else None
    except ValueError:
        raise HTTPException(400, "the body is not JSON (an array) or JSON lines") from None
    if items is None or len(items) > MAX_IMPORT:
        raise HTTPException(400, f"send a JSON array or JSON lines of at most {MAX_IMPORT} products")

    failed: list[ImportFailure] = []
    products: list[Product] = []
    positions: list[int] = []  # products[i] is input positions[i]
    for position, item in items:
        sku = item.get("sku") if isinstance(item, dict) else None
        try:
            product = new_document(Product, ProductCreate.model_validate(item))
        except ValidationError as error:
            failed.append(ImportFailure(position=position, sku=_text(sku), errors=_errors(error)))
            continue
        except DocumentValidationError as error:
            failed.append(ImportFailure(position=position, sku=_text(sku), errors=validation_errors(error)))
            continue
        product.meta.id = product.sku
        products.append(product)
        positions.append(position)

    result = await Product.bulk(products, refresh="wait_for")
    for failure in result.failed:
        failed.append(
            ImportFailure(
                position=positions[failure.position],
                sku=products[failure.position].sku,
                errors=[{"type": type(failure.error).__name__, "msg": str(failure.error)}],
            )
        )
    failed.sort(key=lambda failure: failure.position)
    return ImportReport(succeeded=len(result.succeeded), failed=failed, not_attempted=len(result.not_attempted))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without their input or context (which may hold a Decimal or an exception)."""
    return [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()]


# -- orders ---------------------------------------------------------------------------------------


@app.post("/orders", status_code=201, response_model=OrderReceipt)
async def place_order(body: OrderRequest, response: Response) -> Any:
    """Place an order; each line is priced from its product (its sale price, if any)."""
    skus = list(dict.fromkeys(line.sku for line in body.lines))
    found = dict(zip(skus, await Product.mget(skus)))
    lines = []
    for line in body.lines:
        product = found[line.sku]
        if product is None:
            raise HTTPException(422, f"no product {line.sku!r}")
        if line.variant is not None and line.variant not in {v.sku for v in product.variants}:
            raise HTTPException(422, f"product {line.sku!r} has no variant {line.variant!r}")
        price = product.sale_price if product.sale_price is not None else product.price
        lines.append(OrderLine(sku=line.sku, variant=line.variant, quantity=line.quantity, unit_price=price))
    order = Order(customer=body.customer, lines=lines, deliver_by=body.deliver_by)
    await order.save(refresh="wait_for")  # Elasticsearch chooses the id
    response.headers["ETag"] = etag(order)
    return {"order": to_public(order), "total": order.total}


@app.get("/orders/{order_id}", response_model=OrderReceipt)
async def read_order(order_id: str, response: Response) -> Any:
    order = await Order.get(order_id)
    response.headers["ETag"] = etag(order)
    return {"order": to_public(order), "total": order.total}
