"""What a definition needs from a field: its Elasticsearch path and the type of one value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union

from ..expressions import FieldExpr

__all__ = ["AnyField", "NumericField", "path_of", "value_type_of"]

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
