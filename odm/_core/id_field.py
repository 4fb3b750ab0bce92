"""A model field that is the document id (``class Index: id_field = "sku"``).

The field's value is the ``_id`` a write is sent with, and reads fill the field from
``_id``. By default it is not kept in ``_source`` (nor in the mapping), so the id is
stored once; ``Index.id_in_source = True`` keeps it there too. The id of a stored
document never changes: a loaded document whose id field was changed is refused by
``save()``, ``update()`` and ``delete()``, and an update cannot set the field to another
id (a request body cannot move a document). Pure: nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ArgumentError, DocumentStateError
from ..meta import Meta
from .document_options import IdField, is_document_class, options_of
from .names import check_id

__all__ = ["give_id", "id_field_of", "id_text", "needs_id", "source_with_id", "take_id", "without_id_change"]


def id_field_of(cls: type[BaseModel]) -> IdField | None:
    """The id field of a document class, or ``None`` (the id is ``meta.id`` alone)."""
    return options_of(cls).id_field if is_document_class(cls) else None


def id_text(value: Any) -> str:
    """The ``_id`` of an id field's value: a string as it is, an integer or UUID as its text."""
    return value if isinstance(value, str) else str(value)


def take_id(document: BaseModel, meta: Meta, index: str | None) -> None:
    """Set ``meta.id`` from the document's id field, before a write.

    Raises:
        DocumentStateError: the field is ``None``, or differs from the id the document
            is stored (or was built) with: a stored document's id cannot change.
        InvalidIdError: the value is not an id odm can send.
    """
    id_field = id_field_of(type(document))
    if id_field is None:
        return
    value = getattr(document, id_field.name)
    name = type(document).__name__
    if value is None:
        raise DocumentStateError(f"{name}.{id_field.name} is the document id: set it before writing", index, meta.id)
    text = check_id(id_text(value))
    if meta.id is not None and meta.id != text:
        raise DocumentStateError(
            f"{name}.{id_field.name} is the document id: the document is {meta.id!r}, its field now says {text!r}. "
            "A stored document's id cannot change: save a new document (and delete the old one)", index, meta.id,
        )
    meta.id = text


def needs_id(document: BaseModel, meta: Meta) -> bool:
    """Whether ``document`` has an id field holding ``None`` and no id yet: a new document odm may give one."""
    id_field = id_field_of(type(document))
    return id_field is not None and meta.id is None and getattr(document, id_field.name) is None


def give_id(document: BaseModel, meta: Meta, index: str | None, new: str, client_ids: bool) -> None:
    """Put odm's id ``new`` in the id field of a new document (:func:`needs_id`) and in ``meta.id``.

    Assigned through the model's validation, so the field holds it only if its type takes
    that string as it is (``str | None`` does; ``int | None``, ``UUID | None`` or a
    pattern that refuses it do not): the document and its ``_id`` then agree.

    Raises:
        DocumentStateError: the class keeps Elasticsearch's ids (``client_ids = False``), or
            the field does not take the id as it is; nothing was changed.
    """
    id_field = id_field_of(type(document))
    assert id_field is not None and meta.id is None
    name = f"{type(document).__name__}.{id_field.name}"
    if not client_ids:
        raise DocumentStateError(
            f"{name} is the document id and is None: set it before writing (the class keeps Elasticsearch's "
            "ids, Index.client_ids = False, so odm gives none, and an id Elasticsearch chose would not be in the field)",
            index,
        )
    try:
        setattr(document, id_field.name, new)  # validated as an assignment: the field's own rules
    except ValidationError as error:
        raise DocumentStateError(
            f"{name} is the document id and is None: set it before writing (odm's id for a new document is a "
            f"string such as {new!r}, which the field does not take: {error.errors()[0]['msg']})", index,
        ) from error
    value = getattr(document, id_field.name)
    if value is None or id_text(value) != new:  # a validator changed it: the field would not be the id
        document.__dict__[id_field.name] = None
        raise DocumentStateError(
            f"{name} is the document id and is None: set it before writing (odm's id {new!r} would be kept "
            f"as {value!r} by the field's validation, not as the id)", index,
        )
    meta.id = new


def without_id_change(cls: type[BaseModel], fields: Mapping[str, Any], index: str, doc_id: str) -> Mapping[str, Any]:
    """The fields of a partial update, checked not to move the document to another id.

    The id field given with the document's own id is left out when it is not stored.

    Raises:
        ArgumentError: the id field is given another value.
    """
    id_field = id_field_of(cls)
    if id_field is None or id_field.name not in fields:
        return fields
    value = fields[id_field.name]
    if value is None or id_text(value) != doc_id:
        raise ArgumentError(
            f"{cls.__name__}.{id_field.name} is the document id ({doc_id!r} in index {index!r}): an update "
            f"cannot change it to {value!r}"
        )
    return fields if id_field.stored else {key: item for key, item in fields.items() if key != id_field.name}


def source_with_id(id_field: IdField, hit: Mapping[str, Any]) -> dict[str, Any]:
    """A hit's ``_source`` with the id field filled from ``_id`` (the ``_id`` wins)."""
    source = hit.get("_source") or {}
    return {**source, id_field.es_name: hit["_id"]}
