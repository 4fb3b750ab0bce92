"""The one write path (odm._core.writes): which mistakes each way of checking a document catches."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, computed_field, create_model, model_validator

from odm import AsyncDocument, DenseVector, DocumentStateError, DocumentValidationError, InnerDoc, Keyword
from odm.bulk._actions import Defaults, IndexAction, encode
from odm._core.sentinel import NOT_GIVEN
from odm._core.writes import Revalidate, concurrency_tokens, encode_source, encode_write, revalidates
from odm.meta import Meta

WHEN = datetime(2026, 11, 29, 12, 0, 0)


class Plain(AsyncDocument):
    tags: list[Annotated[str, Keyword()]] = []
    counts: list[int] = []

    class Index:
        name = "plain"


class Blobs(AsyncDocument):
    blobs: list[bytes] = []

    class Index:
        name = "blobs"


class Constrained(AsyncDocument):
    tags: list[Annotated[str, AfterValidator(str.lower), Keyword()]] = []
    scores: list[Annotated[int, Field(gt=0)]] = []
    kinds: list[Literal["a", "b"]] = []

    class Index:
        name = "constrained"


def test_classes_whose_validation_adds_checks_are_validated_again() -> None:
    assert not revalidates(Plain)  # only types: the serializer's check is the same check
    assert revalidates(Constrained)  # a validator, a constraint, literals: the serializer checks none


class Stamped(InnerDoc):
    at: datetime
    blob: bytes = b""


class Comment(BaseModel):  # a plain model: pydantic's own datetime schema
    at: datetime


class Priced(BaseModel):  # a plain model: a NaN put in place is serialized as null
    price: float


class PricedAsStrings(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")  # as a document's: "NaN", which Elasticsearch refuses
    price: float


class _Base(AsyncDocument):
    class Index:
        name = "x"


def _document(annotation: Any) -> type[AsyncDocument]:
    """A document class of one field ``value`` of type ``annotation``."""
    return create_model("One", __base__=_Base, value=(annotation, ...))


class ValidatedModel(AsyncDocument):
    at: datetime

    @model_validator(mode="after")
    def _check(self) -> ValidatedModel:
        return self

    class Index:
        name = "x"


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        # odm's own converters (stored_values) check nothing the serializer misses: not validated again
        (datetime, False),  # offsets with seconds converted to UTC
        (datetime | None, False),
        (list[datetime], False),
        (date, False),
        (bytes, False),  # standard base64
        (list[bytes], False),
        (Stamped, False),  # an InnerDoc converts its own datetimes and bytes
        (list[Comment], False),
        (Annotated[list[float], DenseVector(dims=3)], False),  # numpy and packed input
        (Annotated[list[float], DenseVector(dims=3, packed=True)], False),
        (list[float], False),  # the document's own floats: a NaN put in place is sent as "NaN"
        (list[PricedAsStrings], False),
        # what only validation checks: validated again
        (Annotated[datetime, AfterValidator(lambda value: value)], True),
        (Annotated[bytes, BeforeValidator(lambda value: value)], True),
        (Annotated[datetime, Field(gt=datetime(2000, 1, 1))], True),
        (Annotated[bytes, Field(max_length=4)], True),
        (list[Literal["a", "b"]], True),
        (Annotated[list[float], DenseVector(dims=3), Field(min_length=3)], True),
        (list[Priced], True),  # a NaN put in place would be stored as null: only validation refuses it
    ],
    ids=lambda value: getattr(value, "__name__", None) or repr(value)[:40] if not isinstance(value, bool) else str(value),
)
def test_auto_revalidates_only_classes_whose_own_validation_the_serializer_misses(
    annotation: object, expected: bool
) -> None:
    assert revalidates(_document(annotation)) is expected


def test_a_model_validator_is_revalidated_beside_a_datetime() -> None:
    assert revalidates(ValidatedModel)


class Dated(AsyncDocument):
    at: datetime = datetime(2026, 12, 7)
    day: date | None = None
    stamps: list[datetime] = []
    inner: Stamped | None = None
    comments: list[Comment] = []

    class Index:
        name = "dated"


SECONDS_OFFSET = timezone(timedelta(hours=5, minutes=30, seconds=15))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (Dated(at=datetime(2026, 12, 7, 12, 0)), b'{"at":"2026-12-07T12:00:00","day":null,"stamps":[],"inner":null,"comments":[]}'),
        (
            Dated(at=datetime(2026, 12, 7, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3))), day=date(2026, 12, 7)),
            b'{"at":"2026-12-07T12:00:00.000005-03:00","day":"2026-12-07","stamps":[],"inner":null,"comments":[]}',
        ),
        (  # an offset with seconds: the same instant, in UTC (pydantic alone would drop the 15 seconds)
            Dated(at=datetime(2026, 12, 7, 12, 0, tzinfo=SECONDS_OFFSET), stamps=[datetime(2026, 1, 1, tzinfo=SECONDS_OFFSET)]),
            b'{"at":"2026-12-07T06:29:45Z","day":null,"stamps":["2025-12-31T18:29:45Z"],"inner":null,"comments":[]}',
        ),
        (
            Dated(at=datetime(2026, 12, 7, tzinfo=timezone.utc), inner=Stamped(at=datetime(2026, 1, 1, tzinfo=SECONDS_OFFSET), blob=b"\xff")),
            b'{"at":"2026-12-07T00:00:00Z","day":null,"stamps":[],"inner":{"at":"2025-12-31T18:29:45Z","blob":"/w=="},"comments":[]}',
        ),
    ],
    ids=["naive", "microseconds and -03:00", "offset with seconds", "inner doc"],
)
def test_datetimes_are_written_the_same_bytes_without_revalidation(document: Dated, expected: bytes) -> None:
    """``auto`` no longer validates a class for its datetimes: what is stored is what validation stored."""
    assert not revalidates(Dated)
    assert encode_source(document, document.meta, "dated", "auto") == expected
    assert encode_source(document, document.meta, "dated", True) == expected  # as before: validated again
    assert encode_source(document, document.meta, "dated", "auto") == expected  # and the instance is unchanged


OFFSETS = st.integers(min_value=-(18 * 3600), max_value=18 * 3600).map(lambda s: timezone(timedelta(seconds=s)))


@settings(max_examples=200, database=None)
@given(at=st.datetimes(timezones=st.none() | OFFSETS), stamps=st.lists(st.datetimes(timezones=st.none() | OFFSETS), max_size=3))
def test_any_datetime_is_written_as_revalidation_wrote_it(at: datetime, stamps: list[datetime]) -> None:
    document = Dated(at=at, stamps=stamps)
    validated = Dated(at=at, stamps=stamps)
    assert encode_source(document, document.meta, "dated", "auto") == encode_source(validated, validated.meta, "dated", True)


@pytest.mark.parametrize(
    ("cls", "field", "bad", "caught_by"),
    [
        # what goes wrong in place          serializer (False)  auto   revalidate=True
        (Plain, "tags", 3, {False: True, "auto": True, True: True}),
        (Plain, "counts", "x", {False: True, "auto": True, True: True}),
        (Plain, "tags", None, {False: False, "auto": False, True: True}),  # the serializer writes null
        (Constrained, "scores", -1, {False: False, "auto": True, True: True}),
        (Constrained, "kinds", "z", {False: False, "auto": True, True: True}),
        (Dated, "stamps", "2026-12-07", {False: True, "auto": True, True: True}),  # a str is not a datetime
        (Dated, "stamps", 3, {False: True, "auto": True, True: True}),
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


class Lines(AsyncDocument):
    stamp: datetime = datetime(2026, 12, 7)
    lines: list[Priced] = []

    class Index:
        name = "lines"


@pytest.mark.parametrize("revalidate", ["auto", True])
def test_a_nan_put_in_place_into_a_nested_plain_model_is_refused_not_stored_as_null(revalidate: Revalidate) -> None:
    document = Lines(lines=[Priced(price=1.0)], meta={"id": "d1"})
    document.lines[0].price = math.nan  # the plain model allows NaN and serializes it as null
    assert encode_source(document, document.meta, "lines", False) == b'{"stamp":"2026-12-07T00:00:00","lines":[{"price":null}]}'
    with pytest.raises(DocumentValidationError, match=r"'d1'.*lines\.0\.price"):
        encode_source(document, document.meta, "lines", revalidate)


@pytest.mark.parametrize("bad", ["text", 3])
@pytest.mark.parametrize("revalidate", [False, "auto", True])
def test_a_wrong_value_in_a_bytes_list_is_refused_without_revalidation(bad: object, revalidate: Revalidate) -> None:
    """odm's base64 serializer refuses what is not bytes (the message names the document, not the field)."""
    assert not revalidates(Blobs)
    document = Blobs(meta={"id": "d1"})
    document.blobs.append(bad)  # type: ignore[arg-type]  # in place: pydantic does not see it
    with pytest.raises(DocumentValidationError, match="'d1'.*bytes-like object is required"):
        encode_source(document, document.meta, "blobs", revalidate)


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


class Prefixed(AsyncDocument):
    """An id field whose validation changes the value: odm's id would not be kept as sent."""

    code: Annotated[str | None, AfterValidator(lambda v: v if v is None or v.startswith("sku-") else f"sku-{v}"), Keyword()] = None
    title: str = ""

    class Index:
        name = "shouted"
        id_field = "code"


class Patterned(AsyncDocument):
    code: Annotated[str | None, Field(pattern=r"^[0-9]+$"), Keyword()] = None

    class Index:
        name = "patterned"
        id_field = "code"


def test_an_id_field_of_none_is_given_odms_id_only_if_it_keeps_it_as_it_is() -> None:
    """encode_write puts odm's id in the field through validation; a field that refuses it
    (a pattern) or changes it (a validator) is refused, and the document is left without an id."""
    for document, reason in ((Prefixed(), "would be kept as"), (Patterned(), "which the field does not take")):
        with pytest.raises(DocumentStateError, match=reason):
            encode_write(document, document.meta, "i")
        assert document.meta.id is None and document.code is None
        with pytest.raises(DocumentStateError, match=reason):
            encode(IndexAction(document), 0, Defaults())
        assert document.meta.id is None and document.code is None
    given = Prefixed(code="1")
    assert encode_write(given, given.meta, "i") == (b'{"title":""}', "sku-1", False)
