"""Timestamps odm sets (``class Index: timestamps = True``) on every write path, read back with the raw client.

odm's clock is replaced by one the test sets (``odm._core.timestamps.clock``), so each
write's times are known exactly: no test compares against the wall clock. The rules are
in docs/documents.md#timestamps; the declaration's errors and the request bodies are in
tests/unit/test_timestamps.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    ArgumentError,
    AsyncDocument,
    CreateAction,
    DocumentStateError,
    IndexAction,
    Keyword,
    UpdateAction,
)
from odm._core import timestamps as timestamps_module
from odm.fastapi import create_schema, new_document, public_schema, to_public, update_schema
from odm.migrate import apply
from odm.testing.isolation import isolated

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def text(when: datetime) -> str:
    """A time as odm stores it in ``_source`` (pydantic's ISO form, UTC as ``Z``)."""
    return when.isoformat().replace("+00:00", "Z")


class Clock:
    """odm's clock in these tests: it says ``now`` until the test moves it."""

    def __init__(self) -> None:
        self.now = at(0)
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timestamps_module, "clock", fake)
    return fake


class Note(AsyncDocument):
    title: str
    views: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        timestamps = True


class TenantNote(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str
    created_at: datetime | None = None
    modified_at: datetime | None = None  # esorm's name, declared as the pair

    class Index:
        name = "tenant-notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"
        timestamps = ("created_at", "modified_at")


class NoteV1(AsyncDocument):
    title: Annotated[str, Keyword()]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "ts-notes"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        timestamps = True


class NoteV2(AsyncDocument):
    """``title`` becomes full text: a new index, filled by the migration's copy."""

    title: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "ts-notes"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        timestamps = True


@pytest.fixture
async def notes(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Note]:
    bound = isolated(Note, index_prefix)
    await bound.init()
    return bound


async def raw(client: AsyncElasticsearch, cls: type[AsyncDocument], doc_id: str) -> dict[str, Any]:
    source: dict[str, Any] = (await client.get(index=cls.index_name(), id=doc_id))["_source"]
    return source


async def times(client: AsyncElasticsearch, cls: type[AsyncDocument], doc_id: str, updated: str = "updated_at") -> tuple[Any, Any]:
    """``(created_at, updated)`` of the stored document, as stored."""
    source = await raw(client, cls, doc_id)
    return source.get("created_at"), source.get(updated)


# -- save: index and create ----------------------------------------------------------------------


async def test_save_sets_both_on_a_new_document_and_only_updated_at_on_a_later_save(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    note = notes(title="a", meta={"id": "n1"})
    assert await note.save(refresh=True) == "created"
    assert await times(odm_client, notes, "n1") == (text(at(0)), text(at(0)))
    assert (note.created_at, note.updated_at) == (at(0), at(0))  # the instance holds what was stored

    clock.now = at(5)
    note.title = "b"
    assert await note.save(refresh=True) == "updated"  # the same instance, saved again
    assert await times(odm_client, notes, "n1") == (text(at(0)), text(at(5)))

    clock.now = at(9)
    loaded = await notes.get("n1")
    loaded.views = 3
    await loaded.save(refresh=True)  # a loaded document: its created_at is kept
    assert await times(odm_client, notes, "n1") == (text(at(0)), text(at(9)))
    assert (loaded.created_at, loaded.updated_at) == (at(0), at(9))


async def test_save_without_an_id_and_op_type_create(odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock) -> None:
    fresh = notes(title="no id")
    await fresh.save(refresh=True)  # odm gives the id and sends a create
    assert fresh.meta.id is not None
    assert await times(odm_client, notes, fresh.meta.id) == (text(at(0)), text(at(0)))
    clock.now = at(1)
    await notes(title="c", meta={"id": "c1"}).save(op_type="create", refresh=True)
    assert await times(odm_client, notes, "c1") == (text(at(1)), text(at(1)))


async def test_a_created_at_given_by_code_to_a_new_document_is_kept(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    imported = notes(title="from 2020", created_at=datetime(2020, 5, 1, tzinfo=timezone.utc), meta={"id": "old"})
    await imported.save(refresh=True)
    assert await times(odm_client, notes, "old") == ("2020-05-01T00:00:00Z", text(at(0)))


async def test_a_stored_document_without_created_at_keeps_none_odm_invents_no_creation_time(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    await odm_client.index(index=notes.index_name(), id="legacy", document={"title": "before timestamps"}, refresh=True)
    legacy = await notes.get("legacy")
    clock.now = at(3)
    await legacy.save(refresh=True)
    assert await raw(odm_client, notes, "legacy") == {
        "title": "before timestamps", "views": 0, "created_at": None, "updated_at": text(at(3)),
    }


async def test_the_created_at_of_a_stored_document_cannot_be_assigned_and_nothing_is_written(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    await notes(title="a", meta={"id": "n1"}).save(refresh=True)
    loaded = await notes.get("n1")
    with pytest.raises(DocumentStateError, match="created_at is the time odm created the document") as caught:
        loaded.created_at = at(-100)
    assert (caught.value.index, caught.value.id) == (notes.index_name(), "n1")
    assert loaded.created_at == at(0)
    assert (await odm_client.get(index=notes.index_name(), id="n1"))["_version"] == 1


# -- update and update_by_id ---------------------------------------------------------------------


async def test_update_sends_updated_at_and_never_created_at(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    await notes(title="a", meta={"id": "n1"}).save(refresh=True)
    loaded = await notes.get("n1")
    clock.now = at(7)
    assert await loaded.update(views=1, refresh=True) == "updated"
    assert await times(odm_client, notes, "n1") == (text(at(0)), text(at(7)))
    assert (loaded.created_at, loaded.updated_at, loaded.views) == (at(0), at(7), 1)
    clock.now = at(8)
    assert await loaded.update(views=1) == "updated"  # same values, but a write: updated_at moves, no "noop"
    assert await times(odm_client, notes, "n1") == (text(at(0)), text(at(8)))

    # An instance that was never loaded (a new one with the id): its created_at None is not sent either.
    clock.now = at(9)
    await notes(title="ignored", meta={"id": "n1"}).update(title="by id only", refresh=True)
    assert await raw(odm_client, notes, "n1") == {
        "title": "by id only", "views": 1, "created_at": text(at(0)), "updated_at": text(at(9)),
    }


async def test_update_by_id_sends_updated_at_only(odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock) -> None:
    await notes(title="a", meta={"id": "n1"}).save(refresh=True)
    clock.now = at(4)
    assert await notes.update_by_id("n1", {"views": 2}, refresh=True) == "updated"
    assert await raw(odm_client, notes, "n1") == {
        "title": "a", "views": 2, "created_at": text(at(0)), "updated_at": text(at(4)),
    }


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
async def test_an_update_naming_a_timestamp_is_refused_and_nothing_is_written(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock, field: str
) -> None:
    await notes(title="a", meta={"id": "n1"}).save(refresh=True)
    loaded = await notes.get("n1")
    clock.now = at(30)
    body = {field: "2030-01-01T00:00:00Z", "views": 5}  # a request body's dict, say
    with pytest.raises(ArgumentError, match=f"Note.{field} is set by odm"):
        await loaded.update(body)
    with pytest.raises(ArgumentError, match=f"Note.{field} is set by odm"):
        await notes.update_by_id("n1", body)
    refused = await notes.bulk([UpdateAction(loaded, body), UpdateAction("n1", body)])
    assert not refused.succeeded and [type(failure.error) for failure in refused.failed] == [ArgumentError, ArgumentError]
    stored = await odm_client.get(index=notes.index_name(), id="n1")
    assert stored["_version"] == 1 and stored["_source"]["views"] == 0
    assert (loaded.views, loaded.updated_at) == (0, at(0))


# -- bulk --------------------------------------------------------------------------------------------


async def test_bulk_index_create_and_update_actions_stamp_as_save_and_update_do(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    result = await notes.bulk(
        [notes(title="plain", meta={"id": "b1"}), IndexAction(notes(title="index", meta={"id": "b2"})),
         CreateAction(notes(title="create", meta={"id": "b3"})), notes(title="no id")],
        refresh=True,
    )
    assert result.ok and len(result.succeeded) == 4
    for entry in result.succeeded:
        assert await times(odm_client, notes, entry.id) == (text(at(0)), text(at(0)))

    clock.now = at(2)
    b1 = await notes.get("b1")
    b1.views = 10
    result = await notes.bulk(
        [b1, UpdateAction(await notes.get("b2"), {"views": 20}), UpdateAction("b3", {"views": 30})], refresh=True
    )
    assert result.ok
    for doc_id, views in (("b1", 10), ("b2", 20), ("b3", 30)):
        source = await raw(odm_client, notes, doc_id)
        assert (source["created_at"], source["updated_at"], source["views"]) == (text(at(0)), text(at(2)), views)
    assert b1.updated_at == at(2)


async def test_bulk_timestamps_false_writes_what_the_documents_hold(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    clock.now = at(50)
    backup = notes(title="restored", created_at=at(-10), updated_at=at(-5), meta={"id": "r1"})
    assert (await notes.bulk([backup], refresh=True, timestamps=False)).ok
    assert await times(odm_client, notes, "r1") == (text(at(-10)), text(at(-5)))
    fixed = UpdateAction[Note]("r1", {"created_at": at(-20)})  # a repair of stored data, asked for by name
    assert (await notes.bulk([fixed], refresh=True, timestamps=False)).ok
    assert await times(odm_client, notes, "r1") == (text(at(-20)), text(at(-5)))
    assert clock.reads == 0


# -- the tenant scope -------------------------------------------------------------------------------


async def test_a_tenant_scopes_writes_stamp_the_same_way(
    odm_client: AsyncElasticsearch, index_prefix: str, clock: Clock
) -> None:
    notes = isolated(TenantNote, index_prefix)
    await notes.init()
    acme = notes.for_tenant("acme")
    await acme.save(notes(title="saved", meta={"id": "t1"}), refresh=True)
    assert (await acme.bulk([notes(title="bulk", meta={"id": "t2"})], refresh=True)).ok
    for doc_id in ("t1", "t2"):
        assert await times(odm_client, notes, doc_id, "modified_at") == (text(at(0)), text(at(0)))

    clock.now = at(1)
    loaded = await acme.get("t1")
    await acme.update(loaded, {"title": "updated"}, refresh=True)
    assert await times(odm_client, notes, "t1", "modified_at") == (text(at(0)), text(at(1)))
    clock.now = at(2)
    await acme.update_by_id("t2", {"title": "by id"}, refresh=True)
    assert await times(odm_client, notes, "t2", "modified_at") == (text(at(0)), text(at(2)))
    clock.now = at(3)
    assert (await acme.bulk([UpdateAction[TenantNote]("t1", {"title": "bulk update"})], refresh=True)).ok
    assert await raw(odm_client, notes, "t1") == {
        "tenant": "acme", "title": "bulk update", "created_at": text(at(0)), "modified_at": text(at(3)),
    }
    with pytest.raises(ArgumentError, match="TenantNote.modified_at is set by odm"):
        await acme.update_by_id("t2", {"modified_at": at(99)})
    assert await times(odm_client, notes, "t2", "modified_at") == (text(at(0)), text(at(2)))


# -- the migrations' copy --------------------------------------------------------------------------


async def test_a_migration_copies_the_timestamps_as_stored(
    odm_client: AsyncElasticsearch, index_prefix: str, clock: Clock
) -> None:
    v1, v2 = isolated(NoteV1, index_prefix), isolated(NoteV2, index_prefix)
    await v1.init()
    await v1(title="one", meta={"id": "m1"}).save()
    clock.now = at(1)
    await v1.update_by_id("m1", {"title": "one, edited"})
    await odm_client.index(index=v1.index_name(), id="m2", document={"title": "stored before timestamps"})
    await odm_client.indices.refresh(index=v1.index_name())
    before = {doc_id: await raw(odm_client, v1, doc_id) for doc_id in ("m1", "m2")}
    reads = clock.reads

    clock.now = at(60)
    result = await apply(v2, state_index=index_prefix + "odm-migrations")
    assert (result.outcome, result.copied) == ("migrated", 2)
    assert result.target is not None and result.target.endswith("-v2")
    copied = {doc_id: (await odm_client.get(index=result.target, id=doc_id))["_source"] for doc_id in ("m1", "m2")}
    assert copied["m1"] == before["m1"] == {"title": "one, edited", "created_at": text(at(0)), "updated_at": text(at(1))}
    # The copy goes through the model, which writes its defaults (None) for fields a document lacks,
    # as for any field: no time is invented for a document stored before the class had timestamps.
    assert before["m2"] == {"title": "stored before timestamps"}
    assert copied["m2"] == {"title": "stored before timestamps", "created_at": None, "updated_at": None}
    assert clock.reads == reads  # the copy never read odm's clock


# -- request schemas ---------------------------------------------------------------------------------


async def test_timestamps_are_server_owned_in_request_schemas(
    odm_client: AsyncElasticsearch, notes: type[Note], clock: Clock
) -> None:
    assert set(create_schema(notes).model_fields) == {"title", "views"}
    assert set(update_schema(notes).model_fields) == {"title", "views"}
    assert set(public_schema(notes).model_fields) == {"id", "title", "views", "created_at", "updated_at"}
    with pytest.raises(ArgumentError, match="server-owned"):
        create_schema(notes, include=["title", "created_at"])
    body = create_schema(notes).model_validate({"title": "from a client", "created_at": "1999-01-01T00:00:00Z"})
    note = new_document(notes, body)
    await note.save(refresh=True)
    assert note.meta.id is not None
    assert await times(odm_client, notes, note.meta.id) == (text(at(0)), text(at(0)))  # the body's value was never taken
    shown = to_public(await notes.get(note.meta.id)).model_dump()
    assert (shown["created_at"], shown["updated_at"]) == (at(0), at(0))
