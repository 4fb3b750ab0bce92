"""The exception tree: every failure a user can cause names the index, id and field.

Elasticsearch's own errors surface as the client's exception types. Where `odm`
adds context to one of them (a version conflict, a missing document), the raised
class subclasses the client's, so ``except elasticsearch.ConflictError`` still works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import elasticsearch
from pydantic import ValidationError

__all__ = [
    "DocumentNotFoundError",
    "DocumentValidationError",
    "HitValidationError",
    "InvalidIdError",
    "InvalidIndexNameError",
    "MappingConflictError",
    "MappingError",
    "OdmError",
    "VersionConflictError",
]


class OdmError(Exception):
    """Base class of every error `odm` raises itself."""


class MappingError(OdmError, TypeError):
    """A model's type hints cannot be turned into an Elasticsearch mapping (at class definition)."""


class InvalidIdError(OdmError, ValueError):
    """A document id that would be unsafe in a request path (``.``, ``..``, empty, over 512 bytes)."""


class InvalidIndexNameError(OdmError, ValueError):
    """An index name Elasticsearch would refuse, or a pattern where one index is meant."""


def _describe(errors: ValidationError) -> str:
    parts = []
    for error in errors.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "<document>"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


class DocumentValidationError(OdmError, ValueError):
    """A document failed validation before it was sent; nothing was written.

    Attributes:
        index: the index the document was meant for.
        id: the document id, if it had one.
        errors: pydantic's ``ValidationError`` (also the ``__cause__``).
    """

    def __init__(self, index: str | None, id: str | None, errors: ValidationError) -> None:
        self.index = index
        self.id = id
        self.errors = errors
        super().__init__(
            f"{errors.title} document for index {index!r} (id {id!r}) is invalid, "
            f"nothing was sent: {_describe(errors)}"
        )


class HitValidationError(OdmError, ValueError):
    """A hit's ``_source`` does not validate as its model; raised, never silently dropped.

    Attributes:
        index: the ``_index`` of the hit.
        id: the ``_id`` of the hit.
        errors: pydantic's ``ValidationError`` (also the ``__cause__``).
    """

    def __init__(self, index: str | None, id: str | None, errors: ValidationError, model: str) -> None:
        self.index = index
        self.id = id
        self.errors = errors
        super().__init__(f"hit {id!r} in index {index!r} is not a valid {model}: {_describe(errors)}")


class MappingConflictError(OdmError):
    """``init()`` found fields whose live mapping is incompatible with the model; nothing changed.

    Attributes:
        index: the index that was checked.
        conflicts: one line per conflicting field path.
    """

    def __init__(self, index: str, conflicts: Sequence[str]) -> None:
        self.index = index
        self.conflicts = list(conflicts)
        listing = "; ".join(self.conflicts)
        super().__init__(
            f"the mapping of index {index!r} is incompatible with the model, nothing was changed: "
            f"{listing}"
        )


class VersionConflictError(OdmError, elasticsearch.ConflictError):
    """A write that required ``seq_no``/``primary_term`` found the document changed (HTTP 409)."""

    def __init__(self, index: str | None, id: str | None, cause: elasticsearch.ApiError) -> None:
        self.index = index
        self.id = id
        message = f"document {id!r} in index {index!r} was changed concurrently"
        super().__init__(message, meta=cause.meta, body=cause.body)

    def __str__(self) -> str:
        return f"{self.message}: {self.body!r}"


class DocumentNotFoundError(OdmError, elasticsearch.NotFoundError):
    """``get()`` found no document with that id (HTTP 404)."""

    def __init__(self, index: str | None, id: str | None, meta: Any, body: Any) -> None:
        self.index = index
        self.id = id
        super().__init__(f"no document {id!r} in index {index!r}", meta=meta, body=body)

    def __str__(self) -> str:
        return str(self.message)
