"""Type hints -> ``elasticsearch.dsl`` field objects -> the mapping sent to Elasticsearch.

The Python type of a field picks its Elasticsearch type through one ordered table
(:data:`TYPE_TABLE`); ``Annotated[T, <elasticsearch.dsl field>]`` overrides it. The
result is an ``elasticsearch.dsl`` mapping, so analyzers used by fields are
collected into the index settings the way elasticsearch.dsl does it. Pure: nothing
here does I/O (``AsyncMapping.from_document`` is the live counterpart).
"""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import ipaddress
import pathlib
import sys
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ForwardRef, Literal, TypeGuard, Union, cast, get_args, get_origin

from elasticsearch.dsl import field
from elasticsearch.dsl.mapping_base import MappingBase
from pydantic import (
    AnyUrl,
    BaseModel,
    EmailStr,
    IPvAnyAddress,
    IPvAnyInterface,
    IPvAnyNetwork,
    Json,
    NameEmail,
    SecretBytes,
    SecretStr,
)
from pydantic.fields import FieldInfo

from ._core.stored_values import InnerDoc
from .errors import MappingError
from .meta import Meta

__all__ = ["SORTABLE_TYPES", "TYPE_TABLE", "field_for", "mapping_for"]

#: Field types a search can sort on by value (doc values): not text, objects, vectors or binary.
SORTABLE_TYPES = frozenset(
    {"keyword", "constant_keyword", "long", "integer", "short", "byte", "unsigned_long", "double",
     "float", "half_float", "scaled_float", "date", "date_nanos", "boolean", "ip", "version"}
)

#: Python type -> field factory, checked in order with ``issubclass``: the first match wins.
#: ``bool`` comes before ``int`` (bool subclasses int) and ``datetime`` before ``date``
#: (datetime subclasses date); enums come before ``str``/``int`` (``class E(str, Enum)``).
TYPE_TABLE: tuple[tuple[type, Callable[[], field.Field]], ...] = (
    (bool, field.Boolean),
    (enum.Enum, field.Keyword),
    (int, field.Long),
    (float, field.Double),
    (decimal.Decimal, field.Double),
    (str, field.Text),
    (bytes, field.Binary),
    (datetime.datetime, field.Date),
    (datetime.date, field.Date),
    (datetime.time, field.Keyword),
    (uuid.UUID, field.Keyword),
    (ipaddress.IPv4Interface, field.Keyword),  # "10.0.0.1/8": an address with its network, not a range;
    (ipaddress.IPv6Interface, field.Keyword),  # before the addresses, which they subclass
    (cast(type, IPvAnyInterface), field.Keyword),  # pydantic's three are classes, typed as unions
    (ipaddress.IPv4Address, field.Ip),
    (ipaddress.IPv6Address, field.Ip),
    (cast(type, IPvAnyAddress), field.Ip),  # not a subclass of either (it validates to one of them)
    (ipaddress.IPv4Network, field.IpRange),  # "10.0.0.0/8": ip_range stores CIDR blocks
    (ipaddress.IPv6Network, field.IpRange),
    (cast(type, IPvAnyNetwork), field.IpRange),
    (pathlib.PurePath, field.Keyword),  # Path, FilePath, DirectoryPath, NewPath: stored as their text
    (AnyUrl, field.Keyword),
    (EmailStr, field.Keyword),
    (NameEmail, field.Keyword),
)

#: Types whose JSON is not their value, refused even with a field override: a ``SecretStr``
#: is dumped as ``"**********"`` (stored, the secret is lost), ``Json[T]`` takes a JSON
#: string and dumps ``T`` (read back, the stored value no longer validates).
_NOT_STORABLE: tuple[tuple[type, str], ...] = (
    (SecretStr, "is written as '**********': the secret would be lost; store it elsewhere, or as str"),
    (SecretBytes, "is written as '**********': the secret would be lost; store it elsewhere, or as bytes"),
    (Json, "parses a JSON string on input, but is written as its value, which does not validate when read back; "
     "annotate the parsed type T instead"),
)

_LIST_ORIGINS = (list, set, frozenset, tuple, Sequence)
_NUMERIC = ("long", "double")


def es_field_name(name: str, info: FieldInfo) -> str:
    """The Elasticsearch name of a pydantic field: its serialization alias, alias, or name."""
    return info.serialization_alias or info.alias or name


def mapping_for(model: type[BaseModel], exclude: frozenset[str] = frozenset()) -> MappingBase:
    """Build the ``elasticsearch.dsl`` mapping of ``model``'s fields (``meta`` excluded).

    Args:
        exclude: Python names of fields that are not in ``_source`` (an id field kept only as ``_id``).

    Raises:
        MappingError: a field whose type cannot be mapped, naming the class and field.
    """
    mapping = MappingBase()
    left_out = {es_field_name(name, model.model_fields[name]) for name in exclude}
    for name, es_field in properties_for(model).items():
        if name not in left_out:
            mapping.field(name, es_field)
    return mapping


def properties_for(model: type[BaseModel], inner: bool = False) -> dict[str, field.Field]:
    """The field objects of ``model``, keyed by their Elasticsearch names.

    Args:
        inner: ``model`` is an object inside a document: a ``bytes`` field needs it to be an
            :class:`~odm.InnerDoc`, or it would be stored as text (see ``_bytes``).
    """
    properties: dict[str, field.Field] = {}
    for name, info in model.model_fields.items():
        if info.annotation is Meta:  # a document's meta: never in _source
            continue
        where = f"{model.__qualname__}.{name}"
        annotation = _resolve_strings(info.annotation, model, where)
        es_field = properties[es_field_name(name, info)] = field_for(annotation, info.metadata, where)
        if inner and isinstance(es_field, field.Binary) and not issubclass(model, InnerDoc):
            raise MappingError(
                f"{where}: bytes inside an object are stored as base64 only if "
                f"{model.__qualname__} subclasses odm.InnerDoc instead of BaseModel"
            )
    return properties


def _resolve_strings(annotation: Any, model: type[BaseModel], where: str) -> Any:
    """Evaluate quoted names left inside generics (``list["Tag"]``): Python 3.10 keeps them as str."""
    if isinstance(annotation, (str, ForwardRef)):
        text = annotation if isinstance(annotation, str) else annotation.__forward_arg__
        namespace = {**vars(sys.modules[model.__module__]), model.__name__: model}
        try:
            return eval(text, namespace)  # what typing.get_type_hints does with a quoted name
        except NameError as error:
            raise MappingError(f"{where}: {error}; define it before the class") from error
    args = get_args(annotation)
    if get_origin(annotation) is Literal or not args or not any(isinstance(a, (str, ForwardRef)) or get_args(a) for a in args):
        return annotation
    resolved = tuple(_resolve_strings(a, model, where) for a in args)
    origin = get_origin(annotation)
    if origin is Annotated:
        return Annotated[resolved]
    if origin in (Union, types.UnionType):
        return Union[resolved]
    return origin[resolved[0] if len(resolved) == 1 else resolved]


def field_for(annotation: Any, metadata: Sequence[Any] = (), where: str = "field") -> field.Field:
    """The ``elasticsearch.dsl`` field for one annotation, with its ``Annotated`` metadata.

    Raises:
        MappingError: the type is not in :data:`TYPE_TABLE` and has no field annotation.
    """
    annotation, metadata = _unwrap_annotated(annotation, list(metadata))
    _refuse_not_storable(annotation, metadata, where)
    override = next((m for m in reversed(metadata) if isinstance(m, field.Field)), None)
    origin = get_origin(annotation)

    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if override is not None:
            return _fill_object(override, members[0] if len(members) == 1 else None, where)
        return _union_field(members, where)
    if origin is not None and _is_subclass(origin, _LIST_ORIGINS):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        if any(arg != args[0] for arg in args):
            raise MappingError(f"{where}: a tuple of mixed types {annotation!r} cannot be mapped")
        item = args[0] if args else Any
        if override is not None:
            return _fill_object(override, _model_of(item), where)
        if _is_model(item):
            return field.Nested(properties=properties_for(item, inner=True))
        return field_for(item, (), where)
    if override is not None:
        return _fill_object(override, annotation, where)
    if origin is Literal:
        return _values_field(get_args(annotation), annotation, where)
    if origin is not None and _is_subclass(origin, (dict, Mapping)) or annotation in (dict, Mapping):
        return field.Object()
    if _is_model(annotation):
        return field.Object(properties=properties_for(annotation, inner=True))
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return _values_field([m.value for m in annotation], annotation, where)
        for python_type, factory in TYPE_TABLE:
            if issubclass(annotation, python_type):
                return factory()
    raise MappingError(
        f"{where}: cannot map type {annotation!r} to an Elasticsearch field; "
        "annotate it with a field, e.g. Annotated[T, Keyword()]"
    )


def _refuse_not_storable(annotation: Any, metadata: Sequence[Any], where: str) -> None:
    """Raise for a type whose stored JSON would not be its value (:data:`_NOT_STORABLE`)."""
    for candidate in (annotation, *metadata):
        kind = candidate if isinstance(candidate, type) else type(candidate)  # Json[T] is Annotated[T, Json()]
        for refused, why in _NOT_STORABLE:
            if issubclass(kind, refused):
                raise MappingError(f"{where}: {refused.__name__} {why}")


def _unwrap_annotated(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    while get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        annotation, metadata = inner, [*metadata, *extra]
    return annotation, metadata


def _union_field(members: list[Any], where: str) -> field.Field:
    if len(members) == 1:
        return field_for(members[0], (), where)
    fields = [field_for(member, (), where) for member in members]
    kinds = {f.name for f in fields}
    if kinds <= set(_NUMERIC):
        return field.Double() if "double" in kinds else field.Long()
    if all(f.to_dict() == fields[0].to_dict() for f in fields):
        return fields[0]
    raise MappingError(
        f"{where}: the union of {' | '.join(sorted(kinds))} has no single Elasticsearch type; "
        "annotate it with a field, e.g. Annotated[int | str, Keyword()]"
    )


def _values_field(values: Sequence[Any], annotation: Any, where: str) -> field.Field:
    """The field of a Literal or Enum: keyword for strings, long/boolean/double for numbers."""
    kinds = {type(value) for value in values}
    if kinds <= {str}:
        return field.Keyword()
    if kinds <= {bool}:
        return field.Boolean()
    if kinds <= {int}:
        return field.Long()
    if kinds <= {int, float}:
        return field.Double()
    raise MappingError(f"{where}: {annotation!r} mixes value types {sorted(k.__name__ for k in kinds)}")


def _fill_object(override: field.Field, annotation: Any, where: str) -> field.Field:
    """Give an ``Object()``/``Nested()`` annotation the properties of its model."""
    model = _model_of(annotation)
    if isinstance(override, field.Object) and model is not None and not list(override._mapping):
        filled = copy.deepcopy(override)
        for name, es_field in properties_for(model, inner=True).items():
            filled._mapping.field(name, es_field)
        return filled
    return override


def model_at(model: type[BaseModel], path: str) -> type[BaseModel] | None:
    """The model of the object (or nested) field at a dotted Elasticsearch ``path`` of ``model``.

    ``model_at(Post, "comments")`` is ``Comment`` for ``comments: list[Comment]``; ``None``
    when a step of the path is not a field holding a model.
    """
    current: type[BaseModel] | None = model
    for step in path.split("."):
        if current is None:
            return None
        fields = current.model_fields
        found = next((info for name, info in fields.items() if es_field_name(name, info) == step), None)
        current = _model_of(found.annotation) if found is not None else None
    return current


def _model_of(annotation: Any) -> type[BaseModel] | None:
    annotation, _ = _unwrap_annotated(annotation, [])
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if get_origin(annotation) is not None and _is_subclass(get_origin(annotation), _LIST_ORIGINS):
        return _model_of(get_args(annotation)[0])
    return annotation if _is_model(annotation) else None


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_subclass(candidate: Any, bases: tuple[type, ...]) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, bases)
