"""Parity with elasticsearch-dsl and esorm, and the conveniences of issue 20 (docs/porting.md).

Each block names the rule it checks; the request bodies the test node cannot run
(painless) are pinned in tests/unit/test_parity.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import FilePath, IPvAnyAddress, IPvAnyInterface, IPvAnyNetwork, Json, SecretBytes, SecretStr

import odm
from odm import (
    ArgumentError,
    AsyncDocument,
    AsyncIndex,
    AsyncMapping,
    BulkItemError,
    DocumentStateError,
    DocumentValidationError,
    Keyword,
    MappingError,
    RetryPolicy,
    UpdateAction,
    VersionConflictError,
)
from odm.cli import run
from odm.fastapi import OdmSettings, create_schema, new_document, odm_lifespan, public_schema, to_public, update_schema
from odm.testing import FaultProxy
from odm.testing.faults import ResetAfterForwarding
from odm.testing.isolation import isolated
from tests.models.parity import Article, Device, Entry, Legacy, Order, Product, Ticket


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    value: int = 0

    class Index:
        name = "counters"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def counters(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Counter]:
    bound = isolated(Counter, index_prefix)
    await bound.init()
    await bound(name="c", value=1, meta={"id": "c"}).save(refresh=True)
    return bound


async def _stale(counters: type[Counter]) -> Counter:
    """A loaded copy of "c" whose tokens are out of date: another writer changed it since."""
    stale = await counters.get("c")
    fresh = await counters.get("c")
    await fresh.update(value=2)
    return stale


# -- 1. retry_on_conflict: elasticsearch-dsl's rule ----------------------------------------


async def test_update_retry_on_conflict_0_sends_tokens_and_fails_on_a_real_conflict(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    loaded = await counters.get("c")
    assert await loaded.update(value=5, retry_on_conflict=0) == "updated"  # tokens, 0 retries: no refusal
    stale = await _stale(counters)
    with pytest.raises(VersionConflictError):
        await stale.update(value=9, retry_on_conflict=0)
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 2


async def test_update_retry_on_conflict_above_0_sends_no_tokens_and_writes_over_a_change(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    stale = await _stale(counters)
    assert await stale.update(value=9, retry_on_conflict=3) == "updated"  # as a service written for 0.1 expects
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 9
    assert stale.value == 9 and stale.meta.seq_no is not None


async def test_update_retry_on_conflict_none_is_the_default_tokens(counters: type[Counter]) -> None:
    stale = await _stale(counters)
    with pytest.raises(VersionConflictError):
        await stale.update(value=9, retry_on_conflict=None)


async def test_bad_retry_on_conflict_is_refused_before_anything_is_sent(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    loaded = await counters.get("c")
    with pytest.raises(ArgumentError, match="retry_on_conflict"):
        await loaded.update(value=7, retry_on_conflict=-1)
    with pytest.raises(DocumentStateError, match="if_unchanged=True"):
        await loaded.update(value=7, retry_on_conflict=2, if_unchanged=True)
    raw = await odm_client.get(index=counters.index_name(), id="c")
    assert raw["_source"]["value"] == 1 and raw["_version"] == 1


async def test_bulk_update_action_follows_the_same_rule(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    stale = await _stale(counters)
    refused = await counters.bulk([UpdateAction(stale, {"value": 8}, retry_on_conflict=0)])
    [failure] = refused.failed
    assert isinstance(failure.error, BulkItemError) and failure.error.status == 409
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 2
    retried = await counters.bulk([UpdateAction(stale, {"value": 8}, retry_on_conflict=3)])
    assert retried.ok and stale.value == 8
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 8


# -- 2. a model field as the document id ---------------------------------------------------


@pytest.fixture
async def products(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Product]:
    bound = isolated(Product, index_prefix)
    await bound.init()
    return bound


async def test_the_id_field_is_the_id_of_save_get_mget_search_and_is_stored_once(
    odm_client: AsyncElasticsearch, products: type[Product]
) -> None:
    name = products.index_name()
    assert "sku" not in products.mapping_dict()["properties"]
    assert await products(sku="A-1", name="lamp", price=9.5).save(refresh=True) == "created"
    raw = await odm_client.get(index=name, id="A-1")
    assert raw["_source"] == {"name": "lamp", "price": 9.5}  # not stored twice
    got = await products.get("A-1")
    assert got.sku == "A-1" and got.meta.id == "A-1" and got.name == "lamp"
    [one, none] = await products.mget(["A-1", "nope"])
    assert none is None and one is not None and one.sku == "A-1"
    hits = [hit async for hit in products.search().filter(products.sku == "A-1")]
    assert [hit.sku for hit in hits] == ["A-1"]
    response = await products.search().execute()  # the whole-response path reads the id too
    assert [hit.sku for hit in response.hits] == ["A-1"]
    partial = [hit async for hit in products.search().source(["name"])]
    assert partial[0].sku == "A-1" and partial[0].meta.partial_source


async def test_the_id_field_in_bulk_update_and_delete(odm_client: AsyncElasticsearch, products: type[Product]) -> None:
    name = products.index_name()
    result = await products.bulk([products(sku=f"B-{i}", name=f"n{i}") for i in range(3)], refresh=True)
    assert result.ok and sorted(entry.id for entry in result.succeeded) == ["B-0", "B-1", "B-2"]
    built = products(sku="B-1", name="n1")  # never loaded: its id is its field
    assert await built.update(price=2.0) == "updated"
    assert (await odm_client.get(index=name, id="B-1"))["_source"] == {"name": "n1", "price": 2.0}
    assert (await products.bulk([UpdateAction(built, {"name": "renamed"})])).ok
    assert await products.update_by_id("B-2", sku="B-2", price=3.0) == "updated"  # its own id: accepted, not stored
    assert (await odm_client.get(index=name, id="B-2"))["_source"] == {"name": "n2", "price": 3.0}
    await products(sku="B-0", name="n0").delete(refresh=True)
    assert not await products.exists("B-0")


async def test_the_id_of_a_stored_document_cannot_change(odm_client: AsyncElasticsearch, products: type[Product]) -> None:
    name = products.index_name()
    await products(sku="C-1", name="chair").save(refresh=True)
    loaded = await products.get("C-1")
    loaded.sku = "C-2"
    for write in (loaded.save(), loaded.update(name="x"), loaded.delete()):
        with pytest.raises(DocumentStateError, match="id cannot change"):
            await write
    [refused] = (await products.bulk([loaded])).failed
    assert isinstance(refused.error, DocumentStateError)
    again = await products.get("C-1")
    with pytest.raises(ArgumentError, match="cannot change it"):
        await again.update(sku="C-3")
    with pytest.raises(ArgumentError, match="cannot change it"):
        await products.update_by_id("C-1", sku="C-3")
    with pytest.raises(DocumentStateError, match="id cannot change"):
        await products(sku="C-4", name="y", meta={"id": "C-1"}).save()
    await odm_client.indices.refresh(index=name)
    ids = [hit["_id"] for hit in (await odm_client.search(index=name))["hits"]["hits"]]
    assert ids == ["C-1"]  # nothing written, nothing moved
    assert (await odm_client.get(index=name, id="C-1"))["_source"] == {"name": "chair", "price": 0.0}


async def test_an_id_field_kept_in_source_and_integer_and_uuid_ids(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    tickets, devices = isolated(Ticket, index_prefix), isolated(Device, index_prefix)
    await tickets.init()
    await devices.init()
    assert tickets.mapping_dict()["properties"]["number"] == {"type": "long"}
    await tickets(number=42, title="broken").save(refresh=True)
    assert (await odm_client.get(index=tickets.index_name(), id="42"))["_source"] == {"number": 42, "title": "broken"}
    got = await tickets.get(42)
    assert got.number == 42 and got.meta.id == "42"
    uid = UUID("12345678-1234-5678-1234-567812345678")
    await devices(uid=uid, label="door").save(refresh=True)
    assert (await devices.get(str(uid))).uid == uid
    assert (await odm_client.get(index=devices.index_name(), id=str(uid)))["_source"] == {"label": "door"}


def test_a_bad_id_field_is_refused_at_class_definition() -> None:
    with pytest.raises(MappingError, match="'nope' is not a field"):
        class Nope(AsyncDocument):
            name: str

            class Index:
                id_field = "nope"
    with pytest.raises(MappingError, match="an id field holds one string"):
        class Listed(AsyncDocument):
            tags: list[Annotated[str, Keyword()]]

            class Index:
                id_field = "tags"


async def _ids_and_sources(client: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    await client.indices.refresh(index=index)
    hits = (await client.search(index=index, size=100))["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


async def test_a_new_document_whose_id_field_is_none_gets_odms_id_in_the_field(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """save() and bulk() put odm's id (new_id) in an id field holding None before the first send:
    the field, meta.id, the _id and (with id_in_source) the stored field are the same string."""
    articles, entries = isolated(Article, index_prefix), isolated(Entry, index_prefix)
    await articles.init()
    await entries.init()
    one = articles(title="one")
    assert await one.save(refresh=True) == "created"
    assert one.slug is not None and one.slug == one.meta.id and len(one.slug) == 20
    many = [articles(title=f"bulk {n}") for n in range(3)]
    result = await articles.bulk(many, refresh=True)
    assert result.ok and [s.id for s in result.succeeded] == [doc.slug for doc in many]
    on_node = await _ids_and_sources(odm_client, articles.index_name())
    assert on_node == {doc.slug: {"title": doc.title} for doc in [one, *many]}
    assert (await articles.get(one.slug)).slug == one.slug
    kept = entries(title="kept")
    await kept.save()
    [bulked] = [entries(title="bulked")]
    assert (await entries.bulk([bulked])).ok
    on_node = await _ids_and_sources(odm_client, entries.index_name())
    assert on_node == {  # the stored field is the id too
        kept.code: {"code": kept.code, "title": "kept", "rank": 0},
        bulked.code: {"code": bulked.code, "title": "bulked", "rank": 0},
    }
    assert None not in on_node


async def test_a_new_document_with_an_id_field_of_none_is_stored_once_after_a_lost_answer(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str
) -> None:
    """The id is in the field before the first send, so odm's re-send after a reset meets its own
    document (created, once), for save() and bulk() alike; odm counted the two sends that reached the node."""
    articles = isolated(Article, index_prefix)
    await articles.init()
    fast = RetryPolicy(initial_backoff=0.01)
    alone, grouped = articles(title="alone"), [articles(title=f"grouped {n}") for n in range(5)]
    async with FaultProxy(es_url, seed=1, faults=[ResetAfterForwarding(count=1)]) as proxy:
        client = AsyncElasticsearch(proxy.url, max_retries=3)
        try:
            assert await alone.save(using=client, retry=fast) == "created"
            assert alone.slug is not None
            assert proxy.stats.reached[("POST", f"/{articles.index_name()}/_create/{alone.slug}")] == 2
            proxy.faults = [ResetAfterForwarding(count=1, path=r"/_bulk$")]
            result = await articles.bulk(grouped, using=client, retry=fast)
        finally:
            await client.close()
    assert proxy.stats.injected["reset_after"] == 2 and proxy.stats.reached[("POST", "/_bulk")] == 2
    assert result.ok and all(s.confirmed for s in result.succeeded)
    on_node = await _ids_and_sources(odm_client, articles.index_name())
    assert on_node == {doc.slug: {"title": doc.title} for doc in [alone, *grouped]}


async def test_an_id_field_of_none_that_cannot_hold_odms_id_is_refused_before_sending(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """An integer id field, or a class that keeps Elasticsearch's ids: the field must be set; an
    invalid document gets no id. Nothing is written, and the document is left as it was."""
    orders, legacy, articles = isolated(Order, index_prefix), isolated(Legacy, index_prefix), isolated(Article, index_prefix)
    cases: list[tuple[type[Any], str]] = [(orders, "which the field does not take"), (legacy, "client_ids = False")]
    for cls, reason in cases:
        await cls.init()
        document = cls(title="no id")
        with pytest.raises(DocumentStateError, match=f"is the document id and is None: set it before writing.*{reason}"):
            await document.save()
        [failure] = (await cls.bulk([document])).failed
        assert isinstance(failure.error, DocumentStateError) and reason in str(failure.error)
        assert document.meta.id is None and getattr(document, cls.__odm__.id_field.name) is None
        assert await _ids_and_sources(odm_client, cls.index_name()) == {}
    await articles.init()
    invalid = articles(title="invalid")
    invalid.__dict__["title"] = 3  # changed in place, past validation
    with pytest.raises(DocumentValidationError):
        await invalid.save()
    [failure] = (await articles.bulk([invalid])).failed
    assert isinstance(failure.error, DocumentValidationError)
    assert invalid.slug is None and invalid.meta.id is None  # no id for a document that was never sent
    assert await _ids_and_sources(odm_client, articles.index_name()) == {}


async def test_schemas_and_the_load_command_use_the_id_field(
    odm_client: AsyncElasticsearch, products: type[Product], es_url: str, tmp_path: Path
) -> None:
    assert "sku" in create_schema(products).model_fields
    assert "sku" not in update_schema(products).model_fields  # a request body cannot move a document
    assert set(public_schema(products).model_fields) == {"sku", "name", "price"}
    with pytest.raises(ArgumentError, match="is the document id"):
        create_schema(products, client_ids=True)
    body = create_schema(products).model_validate({"sku": "D-1", "name": "desk"})
    await new_document(products, body).save(refresh=True)
    assert to_public(await products.get("D-1")).model_dump() == {"sku": "D-1", "name": "desk", "price": 0.0}
    lines = tmp_path / "products.jsonl"
    lines.write_text('{"sku": "E-1", "name": "shelf"}\n{"sku": "E-2", "name": "stool"}\n')
    argv = ["load", "tests.models.parity:Product", str(lines), "--url", es_url, "--index", products.index_name()]
    assert await run(argv, out=io.StringIO(), err=io.StringIO()) == 0  # no --id-field: the class's own
    assert (await odm_client.get(index=products.index_name(), id="E-2"))["_source"] == {"name": "stool", "price": 0.0}
    err = io.StringIO()
    assert await run([*argv, "--id-field", "name"], out=io.StringIO(), err=err) == 2
    assert "id is its field 'sku'" in err.getvalue()


# -- 3. get/mget with _source: partial documents --------------------------------------------


async def test_get_and_mget_with_source_give_partial_documents_that_save_refuses(
    odm_client: AsyncElasticsearch, counters: type[Counter], products: type[Product]
) -> None:
    part = await counters.get("c", _source=["value"])
    assert part.value == 1 and "name" not in part.model_fields_set and part.meta.partial_source
    with pytest.raises(DocumentStateError, match="filtered _source"):
        await part.save()
    assert await part.update(value=4) == "updated"  # a partial update needs only the fields it sets
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"] == {"name": "c", "value": 4}
    [found, missing] = await counters.mget(["c", "nope"], _source="name")
    assert missing is None and found is not None and found.name == "c" and found.meta.partial_source
    assert "value" not in found.model_fields_set
    assert (await counters.get("c", _source=True)).meta.partial_source is not True  # the whole source
    bare = await counters.get("c", _source=False)
    assert bare.meta.partial_source and bare.model_fields_set == set()
    await products(sku="S-1", name="sofa", price=99.0).save(refresh=True)
    [sofa] = await products.mget(["S-1"], _source=["price"], missing="raise")
    assert sofa.sku == "S-1" and sofa.price == 99.0 and sofa.meta.partial_source  # the id field from _id


async def test_a_bad_source_argument_is_refused_before_sending(counters: type[Counter]) -> None:
    for bad in ([], [""], ["a,b"], 3):
        with pytest.raises(ArgumentError, match="_source"):
            await counters.get("c", _source=bad)  # type: ignore[arg-type]
        with pytest.raises(ArgumentError, match="_source"):
            await counters.mget(["c"], _source=bad)  # type: ignore[arg-type]


# -- 4. default mappings of the pydantic types users annotate --------------------------------


class Host(AsyncDocument):
    address: IPvAnyAddress
    v4: IPv4Address | None = None
    v6: IPv6Address | None = None
    network: IPvAnyNetwork | None = None
    interface: IPvAnyInterface | None = None
    config: Path
    launcher: FilePath | None = None

    class Index:
        name = "hosts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def test_ip_and_path_types_map_and_round_trip(
    odm_client: AsyncElasticsearch, index_prefix: str, tmp_path: Path
) -> None:
    hosts = isolated(Host, index_prefix)
    properties = hosts.mapping_dict()["properties"]
    assert {name: spec["type"] for name, spec in properties.items()} == {
        "address": "ip", "v4": "ip", "v6": "ip", "network": "ip_range", "interface": "keyword",
        "config": "keyword", "launcher": "keyword",
    }
    await hosts.init()
    script = tmp_path / "run.sh"
    script.write_text("true\n")
    host = hosts(
        address="2001:db8::1", v4="10.0.0.7", v6="::1", network="10.0.0.0/8", interface="10.0.0.7/8",  # type: ignore[arg-type]  # pydantic parses the text
        config=Path("/etc/app.toml"), launcher=script, meta={"id": "h"},
    )
    await host.save(refresh=True)
    got = await hosts.get("h")
    assert got.model_dump() == host.model_dump()
    assert got.address == IPv6Address("2001:db8::1") and got.network == IPv4Network("10.0.0.0/8")
    inside = [hit.meta.id async for hit in hosts.search().filter("term", network="10.1.2.3")]  # a range holds it
    assert inside == ["h"]
    assert [hit.meta.id async for hit in hosts.search().filter("term", address="2001:db8::1")] == ["h"]


@pytest.mark.parametrize(
    ("annotation", "message"),
    [(SecretStr, "secret would be lost"), (Annotated[SecretStr, Keyword()], "secret would be lost"),
     (SecretBytes | None, "secret would be lost"), (Json[int], "annotate the parsed type"),
     (timedelta, "cannot map type"), (Any, "cannot map type")],
)
def test_types_that_cannot_be_stored_are_refused_at_class_definition(annotation: Any, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        type("Refused", (AsyncDocument,), {"__annotations__": {"value": annotation}})


# -- 8. the odm command imports the project's modules ---------------------------------------


def test_the_odm_command_imports_modules_of_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "shop_models.py").write_text(
        "from odm import AsyncDocument\n\nclass Item(AsyncDocument):\n    name: str\n\n    class Index:\n        name = 'items'\n"
    )
    (tmp_path / "items.jsonl").write_text("")
    script = Path(sys.executable).parent / "odm"  # the console script, as a user runs it
    done = subprocess.run(
        [str(script), "load", "shop_models:Item", "missing.jsonl"], cwd=tmp_path, capture_output=True, text=True,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )
    # The class was imported from the working directory: what fails is the file named next
    assert done.stderr.strip() == "error: missing.jsonl: no such file", done.stderr
    assert done.returncode == 2


# -- 8. odm_lifespan runs start-up steps --------------------------------------------------


async def test_odm_lifespan_saves_templates_and_runs_steps_before_init(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str
) -> None:
    products = isolated(Product, index_prefix)
    template = products.as_template(f"{index_prefix}products", pattern=f"{index_prefix}products-*")
    seen: list[bool] = []

    async def seed(client: AsyncElasticsearch) -> None:
        seen.append(bool(await client.indices.exists(index=products.index_name())))

    async with odm_lifespan(products, settings=OdmSettings(url=es_url), alias="parity", startup=[template, seed])(None):
        assert seen == [False]  # the steps ran before the documents' init()
        assert await odm_client.indices.exists(index=products.index_name())
    assert (await odm_client.indices.get_index_template(name=f"{index_prefix}products"))["index_templates"]

    async def failing(client: AsyncElasticsearch) -> None:
        raise RuntimeError("seed failed")

    with pytest.raises(RuntimeError, match="seed failed"):
        async with odm_lifespan(settings=OdmSettings(url=es_url), alias="parity", startup=[failing])(None):
            raise AssertionError("the start-up must stop")  # pragma: no cover


# -- 6. mappings read from a live index are odm's field classes ------------------------------


async def test_load_mappings_and_from_es_give_odm_field_classes(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    name = index_prefix + "commits"
    await odm_client.indices.create(index=name, mappings={"properties": {
        "committed_date": {"type": "date"},
        "message": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "author": {"properties": {"name": {"type": "keyword"}}},
        "files": {"type": "nested", "properties": {"path": {"type": "keyword"}}},
        "tags": {"type": "flattened"},
    }})
    index = AsyncIndex(name)
    await index.load_mappings()
    m = index.get_or_create_mapping()
    assert isinstance(m["committed_date"], odm.Date) and isinstance(m["message"], odm.Text)
    assert isinstance(m["author"], odm.Object) and isinstance(m["files"], odm.Nested)
    assert isinstance(m["author"]["name"], odm.Keyword) and isinstance(m["files"]["path"], odm.Keyword)
    assert isinstance(m["message"].fields["raw"], odm.Keyword)
    live = await AsyncMapping.from_es(name)
    assert isinstance(live["committed_date"], odm.Date)
    assert live.to_dict()["properties"]["tags"] == {"type": "flattened"}  # a type odm has no class for: as read
    assert live.to_dict()["properties"]["message"] == {"type": "text", "fields": {"raw": {"type": "keyword"}}}
