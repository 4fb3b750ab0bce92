"""The one write path (odm._core.writes): which mistakes each way of checking a document catches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import pytest
from pydantic import AfterValidator, Field, computed_field

from odm import AsyncDocument, DocumentStateError, DocumentValidationError, Keyword
from odm.bulk._actions import Defaults, IndexAction, encode
from odm._core.sentinel import NOT_GIVEN
from odm._core.writes import Revalidate, concurrency_tokens, encode_source, revalidates
from odm.meta import Meta

WHEN = datetime(2026, 11, 29, 12, 0, 0)


class Plain(AsyncDocument):
    tags: list[Annotated[str, Keyword()]] = []
    counts: list[int] = []

    class Index:
        name = "plain"


class Constrained(AsyncDocument):
    tags: list[Annotated[str, AfterValidator(str.lower), Keyword()]] = []
    scores: list[Annotated[int, Field(gt=0)]] = []
    kinds: list[Literal["a", "b"]] = []

    class Index:
        name = "constrained"


def test_classes_whose_validation_adds_checks_are_validated_again() -> None:
    assert not revalidates(Plain)  # only types: the serializer's check is the same check
    assert revalidates(Constrained)  # a validator, a constraint, literals: the serializer checks none


@pytest.mark.parametrize(
    ("cls", "field", "bad", "caught_by"),
    [
        # what goes wrong in place          serializer (False)  auto   revalidate=True
        (Plain, "tags", 3, {False: True, "auto": True, True: True}),
        (Plain, "counts", "x", {False: True, "auto": True, True: True}),
        (Plain, "tags", None, {False: False, "auto": False, True: True}),  # the serializer writes null
        (Constrained, "scores", -1, {False: False, "auto": True, True: True}),
        (Constrained, "kinds", "z", {False: False, "auto": True, True: True}),
    ],
)
def test_which_mistakes_each_choice_catches(
    cls: type[AsyncDocument], field: str, bad: object, caught_by: dict[Revalidate, bool]
) -> None:
    for revalidate, caught in caught_by.items():
        document = cls(meta={"id": "d1"})
        getattr(document, field).append(bad)  # in place: pydantic does not see it
        if caught:
            with pytest.raises(DocumentValidationError, match=rf"'d1'.*{field}"):
                encode_source(document, document.meta, "i", revalidate)
        else:
            assert encode_source(document, document.meta, "i", revalidate)


def test_save_and_bulk_encode_the_same_bytes_and_the_instance_holds_them() -> None:
    document = Constrained(tags=["A"], meta={"id": "d1"})
    document.tags.append("B")  # in place, past the lower-casing validator
    saved = encode_source(document, document.meta, "constrained")
    bulked = encode(IndexAction(document), 0, Defaults()).lines.split(b"\n")[1]
    assert saved == bulked == b'{"tags":["a","b"],"scores":[],"kinds":[]}'
    assert document.tags == ["a", "b"]  # what is stored


def test_unknown_stored_fields_are_written_back_and_computed_fields_see_meta() -> None:
    class WithId(AsyncDocument):
        title: str

        @computed_field  # type: ignore[prop-decorator]
        @property
        def own_id(self) -> str | None:
            return self.meta.id

        class Index:
            name = "with-id"

    document = WithId(title="t", meta={"id": "w1"})
    document.meta.unknown_fields = {"organization": "elastic"}
    assert encode_source(document, document.meta, "with-id") == (
        b'{"title":"t","own_id":"w1","organization":"elastic"}'
    )


def test_a_document_read_in_part_is_not_saved() -> None:
    document = Plain(meta={"id": "d1"})
    document.meta.partial_source = True
    with pytest.raises(DocumentStateError, match="filtered _source"):
        encode_source(document, document.meta, "plain")


def test_tokens_are_sent_back_to_the_index_they_came_from_only() -> None:
    meta = Meta(id="d1", index="plain", seq_no=0, primary_term=1)
    assert concurrency_tokens(meta, "plain", if_unchanged=True) == {"if_seq_no": 0, "if_primary_term": 1}
    assert concurrency_tokens(meta, "plain", NOT_GIVEN) == {"if_seq_no": 0, "if_primary_term": 1}  # 0 is a token
    assert concurrency_tokens(meta, "plain-copy", NOT_GIVEN) == {}
    assert concurrency_tokens(meta, "plain", False) == {}
    with pytest.raises(DocumentStateError, match="if_unchanged=True needs"):
        concurrency_tokens(Meta(id="d1"), "plain", True)


def test_meta_is_never_taken_from_outside_data() -> None:
    outside = {"tags": ["x"], "meta": {"id": "evil", "index": "other", "routing": "r"}}
    assert Plain.model_validate(outside).meta == Meta()
    assert Plain.model_validate_json(b'{"meta": {"_id": "evil"}}').meta == Meta()
    assert Plain(meta={"id": "p1"}).meta.id == "p1"  # code may
    document = Plain()
    document.meta = {"id": "p2"}
    assert document.meta.id == "p2"
    assert "meta" not in Plain.model_json_schema().get("properties", {})
    assert "additionalProperties" not in Plain.model_json_schema()


def test_an_unknown_attribute_is_refused_and_outside_extras_are_dropped() -> None:
    document = Plain.model_validate({"tags": [], "is_admin": True})
    assert document.meta.unknown_fields is None and b"is_admin" not in encode_source(document, document.meta, "p")
    with pytest.raises(ValueError, match='no field "tagz"'):
        document.tagz = ["x"]  # type: ignore[attr-defined]


def test_a_class_that_redeclares_meta_still_never_writes_it() -> None:
    class Shown(Plain):
        meta: Meta  # a response model showing meta (docs/documents.md)

    document = Shown(tags=["a"], meta=Meta(id="s1", index="elsewhere"))
    assert "meta" in Shown.model_json_schema()["properties"]
    assert encode_source(document, document.meta, "plain") == b'{"tags":["a"],"counts":[]}'
