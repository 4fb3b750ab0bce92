"""A bulk of a list encodes its inputs in groups (``encode_many``): the same lines and errors as one by one.

``bulk()`` encodes a sequence's inputs ``_GROUP`` at a time, the documents of one class
serialized by one call (``_core.writes.encode_writes``). Every rule stays in the one
write path; these tests hold the group to it: each input, whatever its neighbours, gets
the bytes, the id, the changes to the document and the error it gets on its own
(``encode``). The path on the node is in tests/integration/test_bulk_groups.py.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, field_serializer

from odm import AsyncDocument, Meta, CreateAction, DeleteAction, DocumentValidationError, IndexAction, Keyword, UpdateAction
from odm._core import timestamps as timestamps_module
from odm._core import writes as writes_module
from odm.bulk._actions import Defaults, Encoded, encode, encode_many
from tests.models.blog import Author, Post

NOW = datetime(2026, 3, 4, 5, 6, 7, 8000, tzinfo=timezone.utc)


class Stamped(AsyncDocument):
    title: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "stamped"
        timestamps = True


class Coded(AsyncDocument):
    code: Annotated[str | None, Keyword()] = None
    name: str = ""

    class Index:
        name = "coded"
        id_field = "code"


class Bounded(AsyncDocument):  # constraints: revalidated by "auto"
    title: Annotated[str, Field(max_length=5)]
    views: Annotated[int, Field(ge=0)] = 0

    class Index:
        name = "bounded"


class Shown(AsyncDocument):  # meta redeclared as a plain field: serialized with exclude={"meta"}
    title: str
    meta: Meta  # a response model showing meta (docs/documents.md)

    class Index:
        name = "shown"


class Grid(AsyncDocument):  # a list of lists can hold the group's split marker
    rows: list[list[str]]

    class Index:
        name = "grid"


class Touchy(AsyncDocument):
    title: str

    @field_serializer("title")
    def _title(self, value: str) -> str:
        if value == "boom":
            raise ValueError("the user's serializer refuses boom")
        return value

    class Index:
        name = "touchy"


class Auto(Post):
    class Index:
        client_ids = False


def _post(doc_id: str | None, **fields: Any) -> Post:
    values: dict[str, Any] = {"title": "t", "created_at": NOW, "author": Author(name="a", email="e"), **fields}
    return Post(**values, meta={"id": doc_id} if doc_id is not None else {})


def inputs() -> list[Any]:
    """Every kind of input, in one list: what a group of a bulk can hold."""
    loaded = _post("l1", views=5)
    loaded.meta.seq_no, loaded.meta.primary_term, loaded.meta.routing, loaded.meta.index = 4, 1, "r", "posts"
    kept = _post("k1")
    kept.meta.unknown_fields = {"old": [1, "x"]}
    wrong = _post("w1")
    wrong.tags.append(3)  # type: ignore[arg-type]  # changed in place, past validation
    partial = _post("p1")
    partial.meta.partial_source = True
    extra = Post.model_validate({"title": "x", "created_at": NOW, "sneaky": 1})
    twice = _post(None, title="same instance twice")
    too_long = Bounded(title="abc")
    too_long.__dict__["title"] = "abcdefgh"  # past validation: only revalidation refuses it
    return [
        _post("a"), _post(None), IndexAction(_post(None), routing="x"), CreateAction(_post("c")), loaded,
        IndexAction(loaded.model_copy(), if_unchanged=False), kept, wrong, partial, extra, twice, twice,
        Auto(title="auto", created_at=NOW), Stamped(title="s"), Stamped(title="s2", created_at=NOW),
        Coded(code="given"), Coded(name="waits for an id"), Bounded(title="ok"), too_long,
        Shown(title="shown", meta=Meta(id="s1")), Shown(title="shown2", meta=Meta(id="s2")), Grid(rows=[["a"]]), Touchy(title="fine"), Touchy(title="boom"), "not a document",
        UpdateAction("u1", {"views": 2}, document_class=Post), UpdateAction(_post("u2"), {"title": "new"}),
        DeleteAction("d1", document_class=Post), DeleteAction(loaded), _post("z"),
    ]


def _actions(items: list[Any]) -> list[Any]:
    return [item if isinstance(item, (IndexAction, CreateAction, UpdateAction, DeleteAction)) else IndexAction(item) for item in items]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timestamps_module, "clock", lambda: NOW)


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """odm's new ids as a counter, restarted by the returned function: two runs give the same ids."""
    counter: Iterator[int] = iter(())

    def restart() -> None:
        nonlocal counter
        counter = itertools.count()

    restart()
    monkeypatch.setattr(writes_module, "new_id", lambda: f"id-{next(counter)}")
    return restart


def outcome(result: Encoded | Exception) -> Any:
    if isinstance(result, Exception):
        return (type(result).__name__, str(result))
    return result.lines


def state(action: Any) -> Any:
    target = getattr(action, "document", None) or getattr(action, "target", None)
    if not isinstance(target, BaseModel):
        return target
    meta = target.meta  # type: ignore[attr-defined]
    return (dict(target), meta.id, meta.index, meta.routing, meta.seq_no)


@pytest.mark.parametrize("revalidate", ["auto", True, False])
def test_a_group_encodes_each_input_as_it_is_encoded_alone(counted_ids: Callable[[], None], revalidate: Any) -> None:
    alone_actions, group_actions = _actions(inputs()), _actions(inputs())
    alone = []
    for position, action in enumerate(alone_actions):
        try:
            alone.append(outcome(encode(action, position, Defaults(revalidate=revalidate))))
        except Exception as error:
            alone.append(outcome(error))
    counted_ids()
    together = [outcome(result) for result in encode_many(group_actions, 0, Defaults(revalidate=revalidate))]

    assert together == alone
    assert [state(action) for action in group_actions] == [state(action) for action in alone_actions]
    # The group held what it is for: successes, refusals, and odm's ids.
    assert sum(isinstance(result, bytes) for result in together) > 15
    assert ("DocumentValidationError" in {kind for kind, *_ in (r for r in together if isinstance(r, tuple))})
    assert any(b'"_id":"id-' in result for result in together if isinstance(result, bytes))


def test_positions_start_where_the_group_starts(counted_ids: Callable[[], None]) -> None:
    results = encode_many(_actions([_post("a"), _post("b"), "no"]), 128, Defaults())
    assert [result.position for result in results if isinstance(result, Encoded)] == [128, 129]


def test_a_wrong_value_in_a_group_fails_that_document_alone_and_says_where() -> None:
    documents = [_post(str(n)) for n in range(5)]
    documents[2].tags.append(3)  # type: ignore[arg-type]
    results = encode_many(_actions(list(documents)), 0, Defaults())
    error = results[2]
    assert isinstance(error, DocumentValidationError)
    assert "tags.0" in str(error) and error.id == "2"
    assert [outcome(r) for n, r in enumerate(results) if n != 2] == [
        encode(IndexAction(document), n, Defaults()).lines for n, document in enumerate(documents) if n != 2
    ]


def test_a_document_holding_the_split_marker_is_encoded_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = "f" * 32
    monkeypatch.setattr(secrets, "token_hex", lambda size: marker)
    documents = [Grid(rows=[["a", marker], ["b"]], meta={"id": "1"}), Grid(rows=[["c"]], meta={"id": "2"})]
    results = encode_many(_actions(list(documents)), 0, Defaults())
    assert [outcome(result) for result in results] == [
        b'{"index":{"_index":"grid","_id":"1"}}\n{"rows":[["a","%s"],["b"]]}\n' % marker.encode(),
        b'{"index":{"_index":"grid","_id":"2"}}\n{"rows":[["c"]]}\n',
    ]


def test_the_serializer_is_called_once_for_the_documents_of_a_class(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = writes_module._serialized_together

    def counted(cls: type[BaseModel], documents: list[BaseModel]) -> list[bytes] | None:
        calls.append(len(documents))
        return original(cls, documents)

    monkeypatch.setattr(writes_module, "_serialized_together", counted)
    documents = [_post(str(n)) if n % 2 else Stamped(title=str(n), meta={"id": str(n)}) for n in range(10)]
    results = encode_many(_actions(documents), 0, Defaults())
    assert sorted(calls) == [5, 5]
    assert all(isinstance(result, Encoded) for result in results)


def test_a_class_pydantic_cannot_serialize_in_a_list_goes_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    class Odd(AsyncDocument):
        title: str

        class Index:
            name = "odd"

    def refuse(*args: Any) -> None:
        raise TypeError("no adapter for this class")

    monkeypatch.setattr(writes_module, "TypeAdapter", refuse)
    documents = [Odd(title=str(n), meta={"id": str(n)}) for n in range(3)]
    results = encode_many(_actions(list(documents)), 0, Defaults())
    assert [outcome(result) for result in results] == [
        b'{"index":{"_index":"odd","_id":"%d"}}\n{"title":"%d"}\n' % (n, n) for n in range(3)
    ]
    assert Odd.__dict__["__odm_together__"] is False  # tried once per class, not once per group
