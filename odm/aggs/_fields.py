"""What a definition needs from a field: its Elasticsearch path and the type of one value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
import types
from typing import Annotated, Any, Union, get_args, get_origin

from ..errors import ArgumentError
from ..expressions import FieldExpr

__all__ = ["AnyField", "NumericField", "key_type_of", "path_of", "value_type_of", "values_path_of"]

#: Fields Elasticsearch's numeric metrics (avg, sum, min, max, stats, percentiles) accept.
NumericField = Union[
    FieldExpr[int], FieldExpr[float], FieldExpr[Decimal], FieldExpr[datetime], FieldExpr[date], str
]

#: Any field, typed (``Product.color``) or a plain path (``"color"``, unchecked).
AnyField = Union[FieldExpr[Any], str]


def path_of(field: FieldExpr[Any] | str) -> str:
    """The field's path as Elasticsearch names it (``"comments.author"``)."""
    return field.to_dict() if isinstance(field, FieldExpr) else field


def value_type_of(field: FieldExpr[Any] | str) -> Any:
    """The pydantic type of one value of the field; ``Any`` for a plain path."""
    # FieldExpr keeps it private: a public attribute would hide a model field of that name.
    return field._value_type if isinstance(field, FieldExpr) else Any


def values_path_of(field: FieldExpr[Any] | str, aggregation: str) -> str:
    """The path of a field whose values an aggregation reads (terms, metrics), checked first.

    Raises:
        ArgumentError: a typed ``text`` field without ``fielddata``, which Elasticsearch
            refuses to aggregate (a 400 at the first search); the message names a keyword
            sub-field to use instead, if the field has one.
    """
    if isinstance(field, FieldExpr) and field._field is not None and getattr(field._field, "name", None) == "text":
        body = field._field.to_dict()
        if not body.get("fielddata"):
            label = field._label
            keywords = [name for name, sub in body.get("fields", {}).items() if sub.get("type") == "keyword"]
            hint = (
                f"use its keyword sub-field, {label}.{keywords[0]}"
                if keywords
                else "map it as Keyword(), or give it a keyword sub-field: Text(fields={'raw': Keyword()})"
            )
            raise ArgumentError(
                f"{aggregation}({label}): {label} is a text field, which Elasticsearch does not aggregate on; {hint}"
            )
    return path_of(field)


#: Field types whose terms keys are the indexed strings, as they were sent.
_STRING_KEYED = frozenset({"keyword", "constant_keyword", "wildcard"})


def key_type_of(field: FieldExpr[Any] | str, aggregation: str) -> Any:
    """The type a terms key of ``field`` is read as: the type of one of its values.

    Raises:
        ArgumentError: a keyword field (or keyword sub-field, ``Product.price.raw``) whose
            values are not strings in the model: its keys are the strings as sent (``"10"``
            and ``"10.0"`` are two keys), which reading them as numbers would merge into one
            value. A plain path (``Terms("price.raw")``) reads the keys as Elasticsearch sends them.
    """
    value_type = value_type_of(field)
    if isinstance(field, FieldExpr) and getattr(field._field, "name", None) in _STRING_KEYED and not _is_text(value_type):
        path = path_of(field)
        raise ArgumentError(
            f"{aggregation}({field._label}): {path} is a keyword field of {_name_of(value_type)} values; its keys "
            f"are the strings as sent, which {_name_of(value_type)} would merge ('10' and '10.0'): "
            f"use {aggregation}({path!r}) for the keys as Elasticsearch sends them"
        )
    return value_type


def _is_text(annotation: Any) -> bool:
    """Whether values of ``annotation`` are strings (``str``, a ``str`` enum), ``None`` aside."""
    if get_origin(annotation) is Annotated:
        return _is_text(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return all(_is_text(arg) for arg in get_args(annotation) if arg is not type(None))
    return annotation is Any or (isinstance(annotation, type) and issubclass(annotation, str))


def _name_of(annotation: Any) -> str:
    base = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    return getattr(base, "__name__", str(base))
