"""Outside data never becomes an option of a write, on the real node.

A request body's keys are field values: with the documented PATCH pattern (the body's
``model_dump(exclude_unset=True)`` passed to ``update()`` as its positional mapping), a
client cannot choose the index, routing or script of the write, and a document class
cannot declare a field that would let it (refused at class definition: tests/unit/test_mapping.py).
Each test checks what the node holds with the raw client.

No ``from __future__ import annotations``: FastAPI reads the endpoint's annotations.
"""

from typing import TYPE_CHECKING, Annotated, Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI
from pydantic import BaseModel, Field

from odm import ArgumentError, AsyncDocument, DocumentValidationError, Keyword
from odm.fastapi import install_exception_handlers, update_schema
from odm.testing.isolation import isolated


class Shipment(AsyncDocument):
    code: Annotated[str, Keyword()]
    # Stored as "index" and "routing": the Python attributes are named otherwise (docs/crud.md).
    index_: Annotated[str, Keyword()] = Field(default="", alias="index")
    routing_code: Annotated[str, Keyword()] = Field(default="", alias="routing")

    class Index:
        name = "boundary-shipments"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


if TYPE_CHECKING:
    ShipmentUpdate = BaseModel
    StrictShipmentUpdate = BaseModel
else:
    ShipmentUpdate = update_schema(Shipment)
    StrictShipmentUpdate = update_schema(Shipment, extra="forbid", name="StrictShipmentUpdate")


@pytest.fixture
async def shipments(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Shipment]:
    bound = isolated(Shipment, index_prefix)
    await bound.init()
    await bound(code="s1", meta={"id": "s1"}).save(refresh=True)
    return bound


@pytest.fixture
def victim(index_prefix: str) -> str:
    """Another index, as a hostile client would name it; the tests check it is never created."""
    return f"{index_prefix}victim"


async def source(client: AsyncElasticsearch, index: str, doc_id: str) -> dict[str, Any]:
    raw = (await client.get(index=index, id=doc_id)).body
    assert "_routing" not in raw
    return dict(raw["_source"])


async def test_a_patch_body_naming_an_index_is_stored_as_a_value(
    shipments: type[Shipment], victim: str, odm_client: AsyncElasticsearch
) -> None:
    app = FastAPI()
    install_exception_handlers(app)

    @app.patch("/shipments/{shipment_id}")
    async def patch(shipment_id: str, body: ShipmentUpdate) -> dict[str, Any]:
        shipment = await shipments.get(shipment_id)
        await shipment.update(body.model_dump(exclude_unset=True), refresh=True)  # docs/fastapi.md's pattern
        return shipment.model_dump(by_alias=True)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        answer = await http.patch(
            "/shipments/s1",
            json={"index": victim, "routing": "r9", "script": "ctx.op = 'delete'", "using": "other", "upsert": True},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"code": "s1", "index": victim, "routing": "r9"}
    assert await source(odm_client, shipments.index_name(), "s1") == {"code": "s1", "index": victim, "routing": "r9"}
    assert not await odm_client.indices.exists(index=victim)


async def test_update_values_are_never_options(
    shipments: type[Shipment], victim: str, odm_client: AsyncElasticsearch
) -> None:
    shipment = await shipments.get("s1")
    body = StrictShipmentUpdate.model_validate({"index": victim, "routing": "r1"})
    assert await shipment.update(body.model_dump(exclude_unset=True), refresh=True) == "updated"
    assert (shipment.index_, shipment.routing_code, shipment.meta.index) == (victim, "r1", shipments.index_name())
    assert await shipments.update_by_id("s1", {"routing_code": "r2"}, refresh=True) == "updated"
    expected = {"code": "s1", "index": victim, "routing": "r2"}
    assert await source(odm_client, shipments.index_name(), "s1") == expected

    # A raw body spread as values, not keywords: its option-like keys are unknown fields, refused whole.
    for hostile in ({"index": "x", "code": "changed"}, {"script": "ctx.op = 'delete'"}, {"refresh": True}):
        with pytest.raises(DocumentValidationError) as caught:
            await shipment.update(hostile)
        assert caught.value.index == shipments.index_name() and caught.value.id == "s1"
        with pytest.raises(DocumentValidationError):
            await shipments.update_by_id("s1", hostile)
    with pytest.raises(ArgumentError, match="positional argument is the field values"):
        await shipment.update(victim)  # type: ignore[arg-type]  # an index where values go: an old call
    with pytest.raises(ArgumentError, match=r"\['code'\] both in values and as keywords"):
        await shipment.update({"code": "a"}, code="b")
    assert await source(odm_client, shipments.index_name(), "s1") == expected  # nothing written
    assert not await odm_client.indices.exists(index=victim)
    assert not await odm_client.indices.exists(index="x")
