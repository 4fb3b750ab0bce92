"""Values as Elasticsearch stores them: ``bytes`` as standard base64, datetimes to the second.

Pydantic writes ``bytes`` to JSON as UTF-8 text by default (non-UTF-8 bytes fail), and
its ``ser_json_bytes="base64"`` writes the URL-safe alphabet, which Elasticsearch's
``binary`` decoder and other clients do not read. So documents (and :class:`InnerDoc`
models) give each ``bytes`` schema of their own a serializer to standard base64 in
JSON and a validator that decodes a ``str`` (what a stored document holds) from base64.
A ``bytes`` value given as ``bytes`` is taken as it is.

Pydantic also writes a UTC offset without its seconds (``+01:19:32``, a historical zone,
becomes ``+01:19``): the stored instant would move, silently. Elasticsearch parses the
full offset but pydantic cannot read it back, so a datetime given in Python whose offset
has seconds is converted to UTC when it is validated (the same instant). JSON input
(a stored document) cannot carry such an offset and is validated as before, at no cost.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any


from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError
from pydantic_core import core_schema as cs

__all__ = ["BASE64_BYTES", "InnerDoc", "as_stored"]


def _encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise PydanticCustomError(
                "base64_bytes", "a stored bytes value must be base64, got {value}", {"value": repr(value[:40])}
            ) from None
    return value


def _whole_minute_offset(value: datetime.datetime) -> datetime.datetime:
    offset = value.utcoffset()
    if offset is not None and offset.seconds % 60:
        return value.astimezone(datetime.timezone.utc)
    return value


def as_stored(schema: Any) -> Any:
    """``schema`` with the model's own ``bytes`` and ``datetime`` schemas as Elasticsearch stores them.

    Nested models keep their own validators and serializers (pydantic-core reuses them),
    which is why a nested model with ``bytes`` fields must be an :class:`InnerDoc`; the
    mapping checks it.
    """
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "bytes" and "serialization" not in schema:
            encoded = {**schema, "serialization": cs.plain_serializer_function_ser_schema(_encode, when_used="json")}
            return cs.no_info_before_validator_function(_decode, encoded)
        if kind == "datetime":
            python = cs.no_info_after_validator_function(_whole_minute_offset, schema)
            return cs.json_or_python_schema(json_schema=schema, python_schema=python)
        return {key: as_stored(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [as_stored(item) for item in schema]
    return schema


class InnerDoc(BaseModel):
    """A plain pydantic model for objects inside documents, with ``bytes`` stored as base64.

    Any ``BaseModel`` works as an object or nested field; subclass this one when the
    model has ``bytes`` fields, so they are stored as Elasticsearch's ``binary`` expects,
    or datetimes in historical time zones (offsets with seconds), so they keep their instant.

    Example: ``class Attachment(InnerDoc): name: str; data: bytes``
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = as_stored(handler(source))
        return schema


class _Base64Bytes:
    """``Annotated`` metadata giving a standalone type (a ``TypeAdapter``) the same ``bytes`` handling."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = as_stored(handler(source))
        return schema


#: ``TypeAdapter(Annotated[T, BASE64_BYTES])`` reads one field's value as a document does.
BASE64_BYTES = _Base64Bytes()
