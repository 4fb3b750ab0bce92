"""elasticsearch.dsl's field classes, made hashable, for ``Annotated`` metadata.

Python's typing hashes ``Annotated`` metadata when it builds a union, so with
elasticsearch.dsl's own classes (which define ``__eq__`` and so are unhashable)
``Annotated[str, Keyword()] | None`` fails at import with a bare ``TypeError:
unhashable type: 'Keyword'``. These subclasses add a hash of what the field maps to and
change nothing else: they map, compare and serialize as elasticsearch.dsl's do (and
elasticsearch.dsl keeps its own classes in its registry).

Example: ``nickname: Annotated[str, Keyword()] | None = None``
"""

from __future__ import annotations

from typing import Any

from elasticsearch.dsl import field
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema

from ._core.stored_values import vector_schema
from .errors import MappingError

__all__ = [
    "Binary",
    "Boolean",
    "Completion",
    "Date",
    "DenseVector",
    "Double",
    "Float",
    "GeoPoint",
    "GeoShape",
    "Integer",
    "Ip",
    "Keyword",
    "Long",
    "Nested",
    "Object",
    "SparseVector",
    "Text",
]


class _Hashable:
    """A hash consistent with elasticsearch.dsl's ``__eq__``: the type and the mapping."""

    def __hash__(self) -> int:
        to_dict: Any = getattr(self, "to_dict")
        return hash((type(self).__name__, repr(to_dict())))


class Binary(_Hashable, field.Binary):
    """``binary``: see elasticsearch.dsl. Example: ``Annotated[bytes, Binary(doc_values=True)]``"""


class Boolean(_Hashable, field.Boolean):
    """``boolean``: see elasticsearch.dsl. Example: ``Annotated[bool, Boolean(index=False)]``"""


class Completion(_Hashable, field.Completion):
    """``completion``: see elasticsearch.dsl. Example: ``Annotated[str, Completion()]``"""


class Date(_Hashable, field.Date):
    """``date``: see elasticsearch.dsl. Example: ``Annotated[datetime, Date(format="strict_date_optional_time")]``"""


class DenseVector(_Hashable, field.DenseVector):
    """``dense_vector``: see elasticsearch.dsl. Example: ``Annotated[list[float], DenseVector(dims=3)]``

    The field takes a numpy array (1-D, any float or int dtype) and a packed value
    (``elasticsearch.helpers.pack_dense_vector``) as well as a list, and holds a list.
    ``packed=True`` (float vectors only) sends the value to Elasticsearch as base64 of
    big-endian float32s, which is shorter and faster to parse than a JSON list of floats;
    it is not part of the mapping. See ``docs/documents.md`` (dense vectors).
    """

    def __init__(self, *args: Any, packed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        element_type = str(getattr(self, "_element_type", "float"))
        if packed and element_type != "float":
            raise MappingError(f"DenseVector(packed=True) needs element_type 'float', not {element_type!r}")
        self._packed = packed

    def __eq__(self, other: Any) -> bool:
        return super().__eq__(other) and self._packed == getattr(other, "_packed", False)

    def __hash__(self) -> int:  # typing caches Annotated[...] by it: packed must tell two apart
        return hash((super().__hash__(), self._packed))

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # pydantic asks Annotated metadata for the schema: this one adds numpy and packed input.
        return vector_schema(handler(source), str(getattr(self, "_element_type", "float")), self._packed)


class Double(_Hashable, field.Double):
    """``double``: see elasticsearch.dsl. Example: ``Annotated[float, Double()]``"""


class Float(_Hashable, field.Float):
    """``float``: see elasticsearch.dsl. Example: ``Annotated[float, Float()]``"""


class GeoPoint(_Hashable, field.GeoPoint):
    """``geo_point``: see elasticsearch.dsl. Example: ``Annotated[dict[str, float], GeoPoint()]``"""


class GeoShape(_Hashable, field.GeoShape):
    """``geo_shape``: see elasticsearch.dsl. Example: ``Annotated[dict[str, Any], GeoShape()]``"""


class Integer(_Hashable, field.Integer):
    """``integer``: see elasticsearch.dsl. Example: ``Annotated[int, Integer()]``"""


class Ip(_Hashable, field.Ip):
    """``ip``: see elasticsearch.dsl. Example: ``Annotated[str, Ip()]``"""


class Keyword(_Hashable, field.Keyword):
    """``keyword``: see elasticsearch.dsl. Example: ``Annotated[str, Keyword()] | None``"""


class Long(_Hashable, field.Long):
    """``long``: see elasticsearch.dsl. Example: ``Annotated[int, Long()]``"""


class Nested(_Hashable, field.Nested):
    """``nested``: see elasticsearch.dsl. Example: ``Annotated[list[Comment], Nested()]``"""


class Object(_Hashable, field.Object):
    """``object``: see elasticsearch.dsl. Example: ``Annotated[list[Comment], Object()]``"""


class SparseVector(_Hashable, field.SparseVector):
    """``sparse_vector``: see elasticsearch.dsl. Example: ``Annotated[dict[str, float], SparseVector()]``"""


class Text(_Hashable, field.Text):
    """``text``: see elasticsearch.dsl. Example: ``Annotated[str, Text(fields={"raw": Keyword()})] | None``"""


#: Elasticsearch type -> odm's class, for mappings read from a live index.
_BY_TYPE: dict[str, type[field.Field]] = {
    cls.name: cls
    for cls in (Binary, Boolean, Completion, Date, DenseVector, Double, Float, GeoPoint, GeoShape, Integer, Ip,
                Keyword, Long, Nested, Object, SparseVector, Text)
}


def live_field(definition: Any) -> Any:
    """A field of a mapping read from Elasticsearch, as odm's class where odm has one.

    ``isinstance(mapping["committed_date"], odm.Date)`` then holds for a mapping read back
    (elasticsearch.dsl would build its own classes); sub-fields and object properties too.
    Other types (``flattened``, ``ip_range``, ...) are elasticsearch.dsl's classes.
    """
    if not isinstance(definition, dict):
        return definition  # a field object already
    params = dict(definition)
    kind = params.pop("type", "object" if "properties" in params else None)
    for key in ("properties", "fields"):
        if isinstance(params.get(key), dict):
            params[key] = {name: live_field(sub) for name, sub in params[key].items()}
    cls = _BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return field.construct_field({"type": kind, **params}) if kind is not None else field.construct_field(params)
    return cls(**params)
