"""Values as Elasticsearch stores them: ``bytes`` as standard base64, datetimes to the second, vectors.

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

A ``dense_vector`` field (annotated with odm's ``DenseVector``) takes a numpy array
(converted with its own ``tolist()``: a float32 becomes the Python float of exactly the
same value, which Elasticsearch stores as that float32 again) and the packed form of
``elasticsearch.helpers.pack_dense_vector`` (base64 of big-endian float32s), and holds a
list either way. numpy is never imported: an array is recognised by its ``dtype`` and
``tolist``. ``DenseVector(packed=True)`` writes the packed form, in odm's writes only
(:data:`TO_ELASTICSEARCH`); ``model_dump_json()`` and API responses keep the list.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import struct
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError
from pydantic_core import core_schema as cs

__all__ = [
    "BASE64_BYTES",
    "CONVERTS_INPUT_ONLY",
    "InnerDoc",
    "TO_ELASTICSEARCH",
    "as_stored",
    "to_elasticsearch",
    "vector_schema",
]

_WRITE = object()

#: The serialization context of odm's writes (``_writes``): what goes into ``_source``.
TO_ELASTICSEARCH: dict[str, object] = {"odm": _WRITE}

#: Core schema metadata key on odm's own converters: a validator that only converts input
#: forms (a numpy array, a packed vector, base64 text, an offset with seconds) and checks
#: nothing the serializer would not, so a class is not validated again on each write
#: because of it (``_core.writes``: ``revalidate="auto"``).
CONVERTS_INPUT_ONLY = "odm_converts_input_only"
_OWN: dict[str, Any] = {CONVERTS_INPUT_ONLY: True}


def to_elasticsearch(context: Any) -> bool:
    """Whether a serialization ``context`` is :data:`TO_ELASTICSEARCH`."""
    return isinstance(context, dict) and context.get("odm") is _WRITE


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
            return cs.no_info_before_validator_function(_decode, encoded, metadata=_OWN)
        if kind == "datetime":
            python = cs.no_info_after_validator_function(_whole_minute_offset, schema, metadata=_OWN)
            return cs.json_or_python_schema(json_schema=schema, python_schema=python, metadata=_OWN)
        return {key: as_stored(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [as_stored(item) for item in schema]
    return schema


def vector_schema(schema: CoreSchema, element_type: str, packed: bool) -> CoreSchema:
    """``schema`` of a ``dense_vector`` field, taking numpy arrays and packed values.

    Args:
        element_type: the field's ``element_type``; only ``"float"`` vectors are packed as
            base64 float32s (Elasticsearch reads a string of a ``byte`` vector as hex).
        packed: write the value to Elasticsearch packed, as ``pack_dense_vector`` does.
    """
    if packed:
        pack = cs.wrap_serializer_function_ser_schema(_packed_for_elasticsearch, info_arg=True, when_used="json")
        schema = {**schema, "serialization": pack}
    convert = _float_vector_input if element_type == "float" else _array_input
    return cs.no_info_before_validator_function(convert, schema, metadata=_OWN)


def _array_input(value: Any) -> Any:
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a numpy array (or scalar), numpy not imported
        return value.tolist()
    return value


def _float_vector_input(value: Any) -> Any:
    if isinstance(value, str):
        return _unpack(value)
    return _array_input(value)


def _unpack(text: str) -> list[float]:
    """A packed vector (base64 of big-endian float32s) as the floats of exactly those values."""
    try:
        raw = base64.b64decode(text, validate=True)
        if not raw or len(raw) % 4:
            raise ValueError(f"{len(raw)} bytes is not a whole number of float32s")
    except (binascii.Error, ValueError):
        raise PydanticCustomError(
            "packed_vector",
            "a packed dense_vector value must be base64 of big-endian float32s, got {value}",
            {"value": repr(text[:40])},
        ) from None
    return list(struct.unpack(f">{len(raw) // 4}f", raw))


def _packed_for_elasticsearch(value: Any, handler: cs.SerializerFunctionWrapHandler, info: cs.SerializationInfo) -> Any:
    if value is None or not to_elasticsearch(info.context):
        return handler(value)
    try:
        return base64.b64encode(struct.pack(f">{len(value)}f", *value)).decode("ascii")
    except (struct.error, TypeError, OverflowError) as error:
        raise ValueError(f"a dense_vector value cannot be packed as float32s: {error}") from None


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
