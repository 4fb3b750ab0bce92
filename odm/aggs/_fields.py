"""What a definition needs from a field: its Elasticsearch path and the type of one value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union

from ..errors import ArgumentError
from ..expressions import FieldExpr

__all__ = ["AnyField", "NumericField", "path_of", "value_type_of", "values_path_of"]

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
