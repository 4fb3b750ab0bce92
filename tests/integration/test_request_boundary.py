"""Outside data never becomes an option of a write, on the real node.

A request body's keys are field values: with the documented PATCH pattern (the body's
``model_dump(exclude_unset=True)`` passed to ``update()`` as its positional mapping), a
client cannot choose the index, routing or script of the write, and a document class
cannot declare a field that would let it (refused at class definition: tests/unit/test_mapping.py).
Each test checks what the node holds with the raw client.

No ``from __future__ import annotations``: FastAPI reads the endpoint's annotations.
"""

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import httpx
import pytest
from elasticsearch import AsyncElasticsearch, ElasticsearchWarning
from fastapi import FastAPI
from pydantic import BaseModel, Field

from odm import ArgumentError, AsyncDocument, DocumentValidationError, InvalidIndexNameError, Keyword
from odm.cli import run
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
    with pytest.raises(ArgumentError, match="field values or a script, not both"):  # values never become params
        await shipment.update({"code": "a"}, script="ctx._source.code = params.code")
    with pytest.raises(ArgumentError, match="field values or a script, not both"):
        await shipments.update_by_id("s1", {"code": "a"}, script="ctx._source.code = params.code")
    assert await source(odm_client, shipments.index_name(), "s1") == expected  # nothing written
    assert not await odm_client.indices.exists(index=victim)
    assert not await odm_client.indices.exists(index="x")


# -- system and hidden index names ------------------------------------------------------------------


class Config(AsyncDocument):
    key: Annotated[str, Keyword()]

    class Index:
        name = "boundary-config"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def dotted(cls: type[Config], name: str, **index: Any) -> type[Config]:
    """``cls`` bound to the dot-prefixed ``name`` (a system index's, or one under the test's prefix)."""
    options = {"name": name, "settings": {"number_of_shards": 1, "number_of_replicas": 0}, **index}
    namespace = {"Index": type("Index", (), options), "__annotations__": {"Index": ClassVar[type]}, "__module__": __name__}
    return type(cls.__name__, (cls,), namespace)


async def test_system_index_names_are_refused_for_writes_and_creation(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dot = f".{index_prefix}kibana"  # a dot name of this test's own: what is checked is that it never exists
    for name in (".security", ".security-7", ".kibana", ".tasks", dot):
        system = dotted(Config, name)
        with pytest.raises(InvalidIndexNameError, match=r"starts with '\.'.*allow_dot_prefix = True") as caught:
            await system.init()
        assert repr(name) in str(caught.value)
        with pytest.raises(InvalidIndexNameError):
            await system(key="k", meta={"id": "1"}).save()
        with pytest.raises(InvalidIndexNameError):
            await system.update_by_id("1", {"key": "v"})
        with pytest.raises(InvalidIndexNameError):
            await system.delete_by_id("1")
        with pytest.raises(InvalidIndexNameError):
            await system._index.create()
        result = await system.bulk([system(key="k", meta={"id": "1"})])
        assert not result.ok and isinstance(result.failed[0].error, InvalidIndexNameError)

    # A value naming a system index (a meta.index, an index= argument) is refused the same way.
    configs = isolated(Config, index_prefix)
    await configs.init()
    stored = configs(key="k", meta={"id": "1"})
    await stored.save(refresh=True)
    for write in (
        lambda: configs(key="k", meta={"id": "2"}).save(index=dot),
        lambda: stored.update({"key": "v"}, index=dot),
        lambda: stored.delete(index=dot),
        lambda: configs.update_by_id("1", {"key": "v"}, index=dot),
        lambda: configs.delete_by_id("1", index=dot),
        lambda: configs.init(index=dot),
    ):
        with pytest.raises(InvalidIndexNameError):
            await write()
    assert not await odm_client.indices.exists(index=dot)
    assert (await configs.get("1")).key == "k"  # reads are not refused, and nothing changed

    # The odm command: apply and load --init refused the same way, in one line.
    module = tmp_path / "system_models.py"
    module.write_text(
        "from odm import AsyncDocument\n"
        f"class Tasks(AsyncDocument):\n    key: str\n    class Index:\n        name = {dot!r}\n"
    )
    (tmp_path / "one.jsonl").write_text('{"key": "k"}\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    state = ["--state-index", index_prefix + "odm-migrations"]
    for argv in (["apply", "system_models:Tasks", "--url", es_url, *state],
                 ["load", "system_models:Tasks", str(tmp_path / "one.jsonl"), "--init", "--url", es_url]):
        out, err = io.StringIO(), io.StringIO()
        assert await run(argv, out=out, err=err) == 3, err.getvalue()
        assert "starts with '.'" in err.getvalue() and err.getvalue().count("\n") == 1, err.getvalue()
    assert not await odm_client.indices.exists(index=dot)


async def test_a_dot_name_allowed_by_name(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    dot = f".{index_prefix}settings"
    allowed = dotted(Config, dot, allow_dot_prefix=True)
    try:
        with pytest.warns(ElasticsearchWarning, match="starts with a dot"):  # Elasticsearch's own warning
            await allowed.init()
        await allowed(key="k", meta={"id": "1"}).save(refresh=True)
        assert (await odm_client.get(index=dot, id="1"))["_source"] == {"key": "k"}
    finally:
        await odm_client.indices.delete(index=dot, ignore_unavailable=True)
