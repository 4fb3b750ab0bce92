"""Validation of partial updates, shared by ``AsyncDocument.update()`` and bulk updates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import DocumentValidationError

__all__ = ["apply_update", "refuse_unknown", "validate_update"]

D = TypeVar("D", bound=BaseModel)


def validate_update(document: D, fields: Mapping[str, Any], index: str, doc_id: str) -> tuple[D, dict[str, Any]]:
    """Check ``fields`` against the model together with the rest of ``document``.

    Returns:
        The valid updated copy, and the ``doc`` body of the partial update (by alias, JSON).

    Raises:
        DocumentValidationError: an unknown field, ``meta``, or an invalid value.
    """
    cls = type(document)
    try:
        refuse_unknown(cls, fields)
        valid = cls.model_validate({**document.model_dump(warnings=False), **fields})
    except ValidationError as errors:
        raise DocumentValidationError(index, doc_id, errors) from errors
    return valid, valid.model_dump(mode="json", by_alias=True, include=set(fields))


def apply_update(document: BaseModel, values: Mapping[str, Any]) -> None:
    """Set field values that :func:`validate_update` validated, without validating them again."""
    document.__dict__.update(values)
    document.__pydantic_fields_set__.update(values)


def refuse_unknown(cls: type[BaseModel], fields: Mapping[str, Any]) -> None:
    """Raise pydantic's ``extra_forbidden`` error for fields the model lacks (and ``meta``)."""
    unknown = sorted((set(fields) - set(cls.model_fields)) | ({"meta"} & set(fields)))
    if unknown:
        raise ValidationError.from_exception_data(
            cls.__name__, [{"type": "extra_forbidden", "loc": (key,), "input": fields[key]} for key in unknown]
        )
