"""Type hints -> mapping: every row of the table, overrides, and the errors at class definition."""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import ipaddress
import uuid
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import AnyUrl, BaseModel, Field, create_model

from odm import (
    AsyncDocument,
    Completion,
    DenseVector,
    GeoPoint,
    Keyword,
    MappingError,
    Nested,
    Object,
    Text,
    mapping_for,
)
from odm.mapping import TYPE_TABLE, field_for
from tests.models.blog import Post


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Inner(BaseModel):
    label: str


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "text"}),
        (int, {"type": "long"}),
        (float, {"type": "double"}),
        (bool, {"type": "boolean"}),
        (decimal.Decimal, {"type": "double"}),
        (bytes, {"type": "binary"}),
        (datetime.datetime, {"type": "date"}),
        (datetime.date, {"type": "date"}),
        (datetime.time, {"type": "keyword"}),
        (uuid.UUID, {"type": "keyword"}),
        (Color, {"type": "keyword"}),
        (Level, {"type": "long"}),
        (Literal["a", "b"], {"type": "keyword"}),
        (Literal[1, 2], {"type": "long"}),
        (ipaddress.IPv4Address, {"type": "ip"}),
        (ipaddress.IPv6Address, {"type": "ip"}),
        (AnyUrl, {"type": "keyword"}),
        (list[int], {"type": "long"}),
        (set[str], {"type": "text"}),
        (tuple[int, ...], {"type": "long"}),
        (Optional[int], {"type": "long"}),
        (int | None, {"type": "long"}),
        (int | float, {"type": "double"}),
        (dict[str, int], {"type": "object"}),
        (dict, {"type": "object"}),
        (Inner, {"type": "object", "properties": {"label": {"type": "text"}}}),
        (Optional[Inner], {"type": "object", "properties": {"label": {"type": "text"}}}),
        (list[Inner], {"type": "nested", "properties": {"label": {"type": "text"}}}),
        (Annotated[str, Keyword()], {"type": "keyword"}),
        (list[Annotated[str, Keyword()]], {"type": "keyword"}),
        (Annotated[list[str], Keyword()], {"type": "keyword"}),
        (Annotated[list[Inner], Object()], {"type": "object", "properties": {"label": {"type": "text"}}}),
        (Annotated[Inner, Nested()], {"type": "nested", "properties": {"label": {"type": "text"}}}),
        (Annotated[int | str, Keyword()], {"type": "keyword"}),
        (Annotated[str | None, Keyword()], {"type": "keyword"}),
        (Annotated[list[float], DenseVector(dims=3)], {"type": "dense_vector", "dims": 3}),
        (Annotated[tuple[float, float], GeoPoint()], {"type": "geo_point"}),
        (Annotated[str, Completion()], {"type": "completion"}),
        (Annotated[str, Text(analyzer="simple")], {"type": "text", "analyzer": "simple"}),
    ],
)
def test_each_python_type_maps_to_its_field(annotation: Any, expected: dict[str, Any]) -> None:
    assert field_for(annotation).to_dict() == expected


def test_table_order_puts_subclasses_before_their_bases() -> None:
    # bool subclasses int and datetime subclasses date: the first match wins, so the
    # subclass must come first or True would map to long and datetimes to a bare date.
    order = [python_type for python_type, _ in TYPE_TABLE]
    assert order.index(bool) < order.index(int)
    assert order.index(datetime.datetime) < order.index(datetime.date)
    assert order.index(enum.Enum) < order.index(str)
    for earlier, (python_type, _) in enumerate(TYPE_TABLE):
        for later_type, _ in TYPE_TABLE[earlier + 1 :]:
            assert not (issubclass(later_type, python_type) and later_type is not python_type), (
                f"{later_type} would be shadowed by {python_type}"
            )


def test_the_contract_post_mapping_is_exact() -> None:
    assert Post.mapping_dict() == {
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "body": {"type": "text"},
            "tags": {"type": "keyword"},
            "author": {
                "type": "object",
                "properties": {
                    "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                    "email": {"type": "keyword"},
                },
            },
            "comments": {
                "type": "nested",
                "properties": {
                    "author": {"type": "keyword"},
                    "body": {"type": "text"},
                    "created_at": {"type": "date"},
                },
            },
            "views": {"type": "long"},
            "created_at": {"type": "date"},
        }
    }


def test_aliases_name_the_elasticsearch_field() -> None:
    class Aliased(BaseModel):
        first_name: str = Field(alias="firstName")
        last_name: str = Field(serialization_alias="lastName")

    assert mapping_for(Aliased).to_dict() == {
        "properties": {"firstName": {"type": "text"}, "lastName": {"type": "text"}}
    }


def test_meta_is_not_in_the_mapping() -> None:
    assert "meta" not in Post.mapping_dict()["properties"]


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (int | str, "the union of long | text has no single Elasticsearch type"),
        (complex, "cannot map type <class 'complex'>"),
        (Any, "cannot map type typing.Any"),
        (tuple[int, str], "a tuple of mixed types"),
        (Literal["a", 1], "mixes value types"),
    ],
)
def test_unmappable_types_fail_at_class_definition_naming_class_and_field(annotation: Any, message: str) -> None:
    with pytest.raises(MappingError, match=r"Broken\.value: .*") as caught:

        class Broken(AsyncDocument):
            value: annotation

    assert message in str(caught.value)


def test_a_field_named_meta_by_alias_is_refused() -> None:
    with pytest.raises(MappingError, match="'meta' is reserved"):

        class Clash(AsyncDocument):
            info: str = Field(alias="meta")


@pytest.mark.parametrize(
    "option",
    ["index", "using", "refresh", "routing", "op_type", "if_unchanged", "pipeline", "retry_on_conflict",
     "script", "params", "upsert"],
)
def test_a_field_named_like_a_write_option_is_refused_at_class_definition(option: str) -> None:
    with pytest.raises(MappingError) as caught:
        create_model("Steerable", __base__=AsyncDocument, **{option: (str, "x")})  # type: ignore[call-overload]
    message = str(caught.value)
    assert message.startswith(f"Steerable.{option}: a field cannot be named {option!r}, an option of "), message
    assert f"Field(alias={option!r})" in message  # what to do instead


def test_every_named_parameter_of_a_write_is_refused_as_a_field_name() -> None:
    named = {
        parameter.name
        for method in (AsyncDocument.save, AsyncDocument.update, AsyncDocument.update_by_id, AsyncDocument.delete)
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) and parameter.name != "self"
    }
    assert {"index", "script", "upsert", "if_unchanged"} <= named
    for name in named:  # so a new option of a write is refused as a field name too
        with pytest.raises(MappingError, match=f"a field cannot be named {name!r}"):
            create_model("Steerable", __base__=AsyncDocument, **{name: (str, "x")})  # type: ignore[call-overload]
    # id and values are positional only, fields the ** of the field values: all three may be fields.
    free = create_model("Free", __base__=AsyncDocument, id=(str, "x"), values=(str, "x"), fields=(str, "x"))
    assert set(free.mapping_dict()["properties"]) == {"id", "values", "fields"}


def test_an_aliased_field_keeps_an_option_name_in_elasticsearch() -> None:
    class Shipment(AsyncDocument):
        index_: Annotated[str, Keyword()] = Field(alias="index")
        routing_code: str = Field(default="", alias="routing")

    assert set(Shipment.mapping_dict()["properties"]) == {"index", "routing"}
    assert Shipment.model_validate({"index": "A-7"}).index_ == "A-7"
    with pytest.raises(MappingError, match=r"Inherited\.script: a field cannot be named 'script'"):

        class Inherited(Shipment):
            script: str = ""


def test_unknown_index_option_is_refused() -> None:
    with pytest.raises(MappingError, match=r"unknown option\(s\) \['shards'\]"):

        class Typo(AsyncDocument):
            title: str

            class Index:
                name = "typo"
                shards = 2


def test_quoted_names_inside_generics_are_resolved_in_the_model_module() -> None:
    # Python 3.10 leaves list["Inner"] with a str inside; 3.11 resolves it itself.
    from odm.mapping import _resolve_strings

    assert _resolve_strings(list["Inner"], Inner, "Inner.x") == list[Inner]
    assert _resolve_strings(dict[str, "int | None"], Inner, "Inner.x") == dict[str, int | None]
    assert _resolve_strings(Literal["Inner"], Inner, "Inner.x") == Literal["Inner"]  # values, not names
    with pytest.raises(MappingError, match=r"Inner.x: name 'Missing' is not defined"):
        _resolve_strings(list["Missing"], Inner, "Inner.x")  # type: ignore[name-defined]


def test_odm_field_classes_are_hashable_so_an_annotated_field_can_be_optional() -> None:
    from odm import Keyword, Nested, Text
    from tests.models.blog import Comment

    class Optional_(AsyncDocument):
        nick: Annotated[str, Keyword()] | None = None
        title: Annotated[str, Text(fields={"raw": Keyword()})] | None = None
        comments: Annotated[list[Comment], Nested()] | None = None

    assert Optional_.mapping_dict()["properties"]["nick"] == {"type": "keyword"}
    assert Optional_.mapping_dict()["properties"]["title"] == {"type": "text", "fields": {"raw": {"type": "keyword"}}}
    assert hash(Keyword()) == hash(Keyword()) and Keyword() == Keyword()
