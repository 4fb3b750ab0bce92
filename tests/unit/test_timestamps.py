"""Timestamps (odm._core.timestamps): the declaration's checks and the rules, with request bodies pinned.

The write paths on the node are in tests/integration/test_timestamps.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Optional

import pytest
from pydantic import Field

from odm import ArgumentError, AsyncDocument, DocumentStateError, Keyword, MappingError
from odm._core import timestamps as timestamps_module
from odm._core.timestamps import check_assignment, clock, source_stamps, timestamps_of, update_stamps
from odm._core.writes import encode_source, validate_fields, validate_update
from odm.bulk._actions import CreateAction, Defaults, IndexAction, UpdateAction, encode

NOW = datetime(2026, 3, 4, 5, 6, 7, 8000, tzinfo=timezone.utc)
BEFORE = datetime(2020, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timestamps_module, "clock", lambda: NOW)


class Note(AsyncDocument):
    title: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "notes"
        timestamps = True


class Renamed(AsyncDocument):
    title: str = ""
    made: Optional[datetime] = Field(default=None, alias="createdAt")
    changed: datetime | None = None

    class Index:
        name = "renamed"
        timestamps = ("made", "changed")


class Plain(Note):
    class Index:
        timestamps = False  # a subclass turns them off


# -- the declaration --------------------------------------------------------------------------------


def test_the_declaration_names_two_fields_that_become_server_owned() -> None:
    assert (timestamps_of(Note).created, timestamps_of(Note).updated) == ("created_at", "updated_at")  # type: ignore[union-attr]
    assert Note.__odm__.server_owned == {"created_at", "updated_at"}
    assert Note.mapping_dict()["properties"]["created_at"] == {"type": "date"}
    assert (timestamps_of(Renamed).created, timestamps_of(Renamed).updated) == ("made", "changed")  # type: ignore[union-attr]
    assert timestamps_of(Plain) is None and Plain.__odm__.server_owned == frozenset()


def _define(annotation: Any, default: Any = None, timestamps: Any = True, **index: Any) -> None:
    attributes = {"timestamps": timestamps, **index}
    namespace = {
        "__annotations__": {"name": Annotated[str, Keyword()], "created_at": annotation, "updated_at": datetime | None},
        "created_at": default, "updated_at": None, "name": "",
        "Index": type("Index", (), {**attributes, "__qualname__": "Bad.Index", "__module__": __name__}), "__module__": __name__, "__qualname__": "Bad",
    }
    type("Bad", (AsyncDocument,), namespace)


@pytest.mark.parametrize(
    ("annotation", "default", "timestamps", "index", "message"),
    [
        (datetime | None, None, "yes", {}, "timestamps is True .* or a pair of two field names"),
        (datetime | None, None, ("created_at",), {}, "a pair of two field names"),
        (datetime | None, None, ("created_at", "created_at"), {}, "a pair of two field names"),
        (datetime | None, None, ("created_at", "changed_at"), {}, "'changed_at' .updated., which is not a field"),
        (datetime, None, True, {}, r"declared created_at: datetime \| None = None"),
        (str | None, None, True, {}, r"declared created_at: datetime \| None = None"),
        (list[datetime] | None, None, True, {}, r"declared created_at: datetime \| None = None"),
        (datetime | None, BEFORE, True, {}, r"declared created_at: datetime \| None = None"),
        (Annotated[datetime, Keyword()] | None, None, True, {}, "mapped as a date, not 'keyword'"),
        (datetime | None, None, ("name", "updated_at"), {"tenant_field": "name"}, "the class's id or tenant field"),
        (datetime | None, None, ("name", "updated_at"), {"id_field": "name"}, "the class's id or tenant field"),
    ],
)
def test_a_misdeclared_timestamp_is_a_mapping_error_at_class_definition(
    annotation: Any, default: Any, timestamps: Any, index: dict[str, Any], message: str
) -> None:
    with pytest.raises(MappingError, match=message):
        _define(annotation, default, timestamps, **index)


def test_the_clock_is_utc_to_the_millisecond() -> None:
    now = clock()
    assert now.tzinfo is timezone.utc and now.microsecond % 1000 == 0


# -- the rules ----------------------------------------------------------------------------------------


def test_a_new_document_gets_both_a_stored_one_only_updated() -> None:
    new = Note(title="a")
    assert source_stamps(new, new.meta) == {"created_at": NOW, "updated_at": NOW}
    given = Note(title="a", created_at=BEFORE)  # set by code (an import): kept
    assert source_stamps(given, given.meta) == {"updated_at": NOW}
    for stored in ({"index": "notes"}, {"seq_no": 3, "primary_term": 1}, {"version": 2}):
        legacy = Note(title="a", meta={"id": "n1", **stored})  # read from an index without created_at
        assert source_stamps(legacy, legacy.meta) == {"updated_at": NOW}
    assert source_stamps(Plain(title="a"), Plain(title="a").meta) == {}


def test_an_update_adds_updated_and_refuses_either_timestamp() -> None:
    assert update_stamps(Note, {"title": "b"}, "notes", "n1") == {"updated_at": NOW}
    for field in ("created_at", "updated_at"):
        with pytest.raises(ArgumentError, match=f"Note.{field} is set by odm .* \\(document 'n1', index 'notes'\\)"):
            update_stamps(Note, {field: BEFORE}, "notes", "n1")
    with pytest.raises(ArgumentError, match="Renamed.made is set by odm"):
        update_stamps(Renamed, {"createdAt": BEFORE}, "renamed", "r1")  # its stored name too
    assert update_stamps(Plain, {"created_at": BEFORE}, "notes", "n1") == {}


def test_assigning_created_at_is_refused_once_the_document_may_be_stored() -> None:
    new = Note(title="a")
    new.created_at = BEFORE  # not stored: code may set it
    new.updated_at = BEFORE
    loaded = Note(title="a", created_at=BEFORE, meta={"id": "n1", "index": "notes", "seq_no": 1, "primary_term": 1})
    with pytest.raises(DocumentStateError, match=r"Note.created_at is the time odm created .* \(document 'n1', index 'notes'\)"):
        loaded.created_at = NOW
    assert loaded.created_at == BEFORE
    loaded.updated_at = NOW  # overwritten by the next write anyway
    check_assignment(loaded, loaded.meta, "title")


# -- the one write path: the bytes every write sends ---------------------------------------------------


def test_encode_source_stamps_and_the_preview_and_a_copy_do_not() -> None:
    note = Note(title="a")
    assert note.to_source() == b'{"title":"a","created_at":null,"updated_at":null}'  # a preview changes nothing
    assert encode_source(note, note.meta, "notes", stamp=False) == b'{"title":"a","created_at":null,"updated_at":null}'
    stamped = b'{"title":"a","created_at":"2026-03-04T05:06:07.008000Z","updated_at":"2026-03-04T05:06:07.008000Z"}'
    assert encode_source(note, note.meta, "notes") == stamped
    assert (note.created_at, note.updated_at) == (NOW, NOW)
    renamed = Renamed()
    assert encode_source(renamed, renamed.meta, "renamed") == (
        b'{"title":"","createdAt":"2026-03-04T05:06:07.008000Z","changed":"2026-03-04T05:06:07.008000Z"}'
    )


def test_partial_update_bodies_carry_updated_at_only() -> None:
    loaded = Note(title="a", created_at=BEFORE, updated_at=BEFORE, meta={"id": "n1", "index": "notes"})
    values, doc = validate_update(loaded, {"title": "b"}, "notes", "n1")
    assert doc == {"title": "b", "updated_at": "2026-03-04T05:06:07.008000Z"}
    assert values == {"title": "b", "updated_at": NOW}
    assert validate_fields(Note, {"title": "b"}, "notes", "n1") == {"title": "b", "updated_at": "2026-03-04T05:06:07.008000Z"}
    assert validate_fields(Note, {"created_at": BEFORE}, "notes", "n1", stamp=False) == {"created_at": "2020-01-01T00:00:00Z"}


def test_bulk_actions_encode_through_the_same_rules() -> None:
    header_and_source = encode(IndexAction(Note(title="a", meta={"id": "n1"})), 0, Defaults()).lines
    assert header_and_source == (
        b'{"index":{"_index":"notes","_id":"n1"}}\n'
        b'{"title":"a","created_at":"2026-03-04T05:06:07.008000Z","updated_at":"2026-03-04T05:06:07.008000Z"}\n'
    )
    created = encode(CreateAction(Note(title="a", created_at=BEFORE, meta={"id": "n2"})), 0, Defaults()).lines
    assert created.endswith(b'"created_at":"2020-01-01T00:00:00Z","updated_at":"2026-03-04T05:06:07.008000Z"}\n')
    update = encode(UpdateAction("n1", {"title": "b"}, document_class=Note), 0, Defaults()).lines
    assert update.split(b"\n")[1] == b'{"doc":{"title":"b","updated_at":"2026-03-04T05:06:07.008000Z"}}'
    kept = encode(IndexAction(Note(title="a", meta={"id": "n3"})), 0, Defaults(timestamps=False)).lines
    assert kept.split(b"\n")[1] == b'{"title":"a","created_at":null,"updated_at":null}'
    refused = UpdateAction("n1", {"updated_at": BEFORE}, document_class=Note)
    with pytest.raises(ArgumentError, match="set by odm"):
        encode(refused, 0, Defaults())
