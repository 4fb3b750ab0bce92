"""Timestamps odm sets on every write (``class Index: timestamps = True``): the rules, in one place.

odm reads its own clock (UTC, to the millisecond, what a ``date`` field indexes) when it
encodes a write, rather than running an ingest pipeline: a pipeline cannot tell a create
from an update for ``created_at`` without a script, and odm knows which document it is
writing (docs/documents.md#timestamps explains the choice).

- ``updated``: every write of a whole document (save, index and create actions, an upsert)
  and every partial update (``update()``, ``update_by_id()``, ``UpdateAction``) sets it.
- ``created``: set with the first write of a document odm does not know to be stored (built
  by code, never read from nor written to an index) when it holds ``None``. A stored
  document's is never changed: not by a save, never sent by an update, and a loaded
  document refuses an assignment (:func:`check_assignment`). A value the code gave a new
  document is kept (an import keeps its creation times).
- An update's values never name either field: odm sets them.

The migrations' copy writes documents as stored: it asks for no stamping. Pure: nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from ..errors import ArgumentError, DocumentStateError
from ..mapping import es_field_name
from ..meta import Meta
from .document_options import Timestamps, is_document_class, options_of

__all__ = ["check_assignment", "clock", "source_stamps", "timestamps_of", "update_stamps"]


def clock() -> datetime:
    """Now, in UTC, to the millisecond: the one clock every write's timestamps are read from."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def timestamps_of(cls: type[BaseModel]) -> Timestamps | None:
    """The timestamp fields of a document class, or ``None`` (it has none)."""
    return options_of(cls).timestamps if is_document_class(cls) else None


def _stored(meta: Meta) -> bool:
    """Whether the document was read from or written to an index (so it may be stored)."""
    return meta.index is not None or meta.seq_no is not None or meta.version is not None


def source_stamps(document: BaseModel, meta: Meta) -> dict[str, datetime]:
    """The timestamp values to set on ``document`` before its whole ``_source`` is encoded.

    ``updated`` is now; ``created`` is now too when the document holds none and is not
    known to be stored (a stored document without one was stored before the class had
    timestamps: odm does not invent its creation time).
    """
    fields = timestamps_of(type(document))
    if fields is None:
        return {}
    now = clock()
    stamps = {fields.updated: now}
    if getattr(document, fields.created) is None and not _stored(meta):
        stamps[fields.created] = now
    return stamps


def update_stamps(cls: type[BaseModel], values: Mapping[str, Any], index: str | None, doc_id: str | None) -> dict[str, datetime]:
    """The timestamp a partial update adds to ``values``: ``updated``, now. ``created`` is never sent.

    Raises:
        ArgumentError: ``values`` names a timestamp field (by its name or stored name): odm sets them.
    """
    fields = timestamps_of(cls)
    if fields is None:
        return {}
    _refuse_given(cls, fields, values, index, doc_id)
    return {fields.updated: clock()}


def _refuse_given(cls: type[BaseModel], fields: Timestamps, values: Mapping[str, Any], index: str | None, doc_id: str | None) -> None:
    for name in (fields.created, fields.updated):
        if name in values or es_field_name(name, cls.model_fields[name]) in values:
            raise ArgumentError(
                f"{cls.__name__}.{name} is set by odm (Index.timestamps): an update cannot set it "
                f"(document {doc_id!r}, index {index!r})"
            )


def check_assignment(document: BaseModel, meta: Meta | None, name: str) -> None:
    """Refuse an assignment to the ``created`` timestamp of a document that may be stored.

    Raises:
        DocumentStateError: ``name`` is the class's ``created`` field and the document was
            read from or written to an index: its creation time never changes.
    """
    fields = timestamps_of(type(document))
    if fields is None or name != fields.created or meta is None or not _stored(meta):
        return
    raise DocumentStateError(
        f"{type(document).__name__}.{name} is the time odm created the document (Index.timestamps): a stored "
        "document's never changes", meta.index, meta.id,
    )
