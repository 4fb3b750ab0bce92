"""Bulk actions: what to do with one document, validated and encoded as NDJSON lines.

Encoding is where a bulk input is checked: a document is serialized by pydantic-core
and those very bytes are validated back as its model, so what is sent is exactly
what was validated; ids and index names are checked; partial updates are validated
against the model. An input that fails is reported by the caller, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Generic, Union

from pydantic import ValidationError
from pydantic_core import to_json
from typing_extensions import TypeAlias, TypeVar

from ._hits import reader_for
from ._names import check_id
from ._partial import apply_update, refuse_unknown, validate_update
from .document import AsyncDocument
from .errors import DocumentValidationError, HitValidationError
from .mapping import es_field_name
from .meta import record_write

__all__ = [
    "BulkAction",
    "CreateAction",
    "Defaults",
    "DeleteAction",
    "Encoded",
    "IndexAction",
    "UpdateAction",
    "document_of",
    "encode",
    "record_success",
]

D = TypeVar("D", bound=AsyncDocument, default=AsyncDocument)


@dataclass(eq=False)
class IndexAction(Generic[D]):
    """Index ``document``, replacing a stored one with the same id; a bare document means this.

    Example: ``IndexAction(post, index="posts-2026-11", if_unchanged=True)``

    Args:
        index: the index to write to, before ``bulk(index=...)``, ``meta.index`` and ``Index.name``.
        routing: the shard routing, else ``meta.routing``.
        pipeline: an ingest pipeline to run.
        if_unchanged: write only if the stored document still has ``meta.seq_no``/``primary_term``.
    """

    document: D
    _: KW_ONLY
    index: str | None = None
    routing: str | None = None
    pipeline: str | None = None
    if_unchanged: bool = False


@dataclass(eq=False)
class CreateAction(Generic[D]):
    """Index ``document`` only if no document has its id; otherwise the item fails with 409.

    Example: ``CreateAction(post)``
    """

    document: D
    _: KW_ONLY
    index: str | None = None
    routing: str | None = None
    pipeline: str | None = None


@dataclass(eq=False)
class UpdateAction(Generic[D]):
    """Set ``fields`` on a stored document, validated against its model before sending.

    With a document, the whole document must stay valid and, once applied, the
    instance reflects the new values (as ``document.update(**fields)``). With an id,
    each field is validated on its own against ``document_class`` (by default the
    class of ``Post.bulk`` or ``bulk(document_class=...)``).

    Example: ``UpdateAction(post, {"views": 10})``, ``UpdateAction("p1", {"views": 10}, document_class=Post)``
    """

    target: D | str | int
    fields: Mapping[str, Any]
    _: KW_ONLY
    document_class: type[D] | None = None
    index: str | None = None
    routing: str | None = None
    if_unchanged: bool = False
    retry_on_conflict: int | None = None


@dataclass(eq=False)
class DeleteAction(Generic[D]):
    """Delete a stored document, given as a document (``meta.id``) or an id.

    Example: ``DeleteAction(post)``, ``DeleteAction("p1", document_class=Post)``
    """

    target: D | str | int
    _: KW_ONLY
    document_class: type[D] | None = None
    index: str | None = None
    routing: str | None = None
    if_unchanged: bool = False


BulkAction: TypeAlias = Union[IndexAction[D], CreateAction[D], UpdateAction[D], DeleteAction[D]]


@dataclass(slots=True)
class Encoded:
    """One input, validated and ready to send: its NDJSON lines and what to write back."""

    position: int
    action: BulkAction[Any]
    lines: bytes
    document: AsyncDocument | None
    routing: str | None = None
    updates: dict[str, Any] | None = None


def document_of(action: BulkAction[Any]) -> AsyncDocument | None:
    """The document instance an action is about, if it was given one."""
    document = action.document if isinstance(action, (IndexAction, CreateAction)) else action.target
    return document if isinstance(document, AsyncDocument) else None


@dataclass
class Defaults:
    """What one bulk call gives all its inputs.

    Attributes:
        index: the index of inputs that name none.
        document_class: the model of updates and deletes given by id.
        revalidate: validate each document again from the bytes to be sent.
    """

    index: str | None = None
    document_class: type[AsyncDocument] | None = None
    revalidate: bool = True
    _checked: dict[tuple[type[AsyncDocument], str | None], str] = field(default_factory=dict, repr=False)

    def index_for(self, cls: type[AsyncDocument], given: str | None, stored: str | None = None) -> str:
        """The action's index, else ``bulk(index=...)``, else ``meta.index``, else ``Index.name``.

        Each name is checked once per bulk.
        """
        name = given if given is not None else self.index if self.index is not None else stored
        key = (cls, name)
        checked = self._checked.get(key)
        if checked is None:
            checked = self._checked[key] = cls.index_name(name)
        return checked


def encode(action: BulkAction[Any], position: int, defaults: Defaults) -> Encoded:
    """Validate ``action`` and encode it as NDJSON lines.

    Raises:
        DocumentValidationError: the document or the update's fields do not validate.
        InvalidIdError, InvalidIndexNameError: an unsafe id or index name.
        ValueError, LookupError, TypeError: an action that cannot be sent as given.
    """
    if isinstance(action, (IndexAction, CreateAction)):
        return _encode_write(action, position, defaults)
    if isinstance(action, UpdateAction):
        return _encode_update(action, position, defaults)
    if isinstance(action, DeleteAction):
        document, name, doc_id = _target(action, defaults)
        header = _header("delete", name, doc_id, _routing(action, document), action.if_unchanged, document)
        return Encoded(position, action, header, document)
    raise TypeError(f"bulk() takes documents or bulk actions, not {type(action).__name__}")


def _encode_write(action: IndexAction[Any] | CreateAction[Any], position: int, defaults: Defaults) -> Encoded:
    document = action.document
    if not isinstance(document, AsyncDocument):
        raise TypeError(f"not a document: {type(document).__name__} (bulk() takes documents or bulk actions)")
    cls, meta = type(document), document.meta
    name = defaults.index_for(cls, action.index, meta.index)
    doc_id = check_id(meta.id) if meta.id is not None else None
    source = cls.__pydantic_serializer__.to_json(document, by_alias=True, warnings=False)
    if defaults.revalidate:
        try:
            cls.__pydantic_validator__.validate_json(source)
        except ValidationError as errors:
            raise DocumentValidationError(name, doc_id, errors) from errors
    op = "create" if isinstance(action, CreateAction) else "index"
    unchanged = isinstance(action, IndexAction) and action.if_unchanged
    routing = _routing(action, document)
    header = _header(op, name, doc_id, routing, unchanged, document, pipeline=action.pipeline)
    return Encoded(position, action, b"".join((header, source, b"\n")), document, routing)


def _encode_update(action: UpdateAction[Any], position: int, defaults: Defaults) -> Encoded:
    document, name, doc_id = _target(action, defaults)
    cls = type(document) if document is not None else _class_of(action, defaults)
    fields = dict(action.fields)
    if document is not None:
        valid, partial = validate_update(document, fields, name, doc_id)
    else:
        try:
            refuse_unknown(cls, fields)
            valid = _validate_partial(cls, fields, name, doc_id)
        except ValidationError as errors:
            raise DocumentValidationError(name, doc_id, errors) from errors
        partial = valid.model_dump(mode="json", by_alias=True, include=set(fields))
    extra = {"retry_on_conflict": action.retry_on_conflict} if action.retry_on_conflict is not None else {}
    header = _header("update", name, doc_id, _routing(action, document), action.if_unchanged, document, **extra)
    updates = {key: valid.__dict__[key] for key in fields} if document is not None else None
    return Encoded(position, action, header + to_json({"doc": partial}) + b"\n", document, updates=updates)


def _target(
    action: UpdateAction[Any] | DeleteAction[Any], defaults: Defaults
) -> tuple[AsyncDocument | None, str, str]:
    target = action.target
    if isinstance(target, AsyncDocument):
        if target.meta.id is None:
            raise ValueError(f"{type(action).__name__} needs a document with meta.id")
        name = defaults.index_for(type(target), action.index, target.meta.index)
        return target, name, check_id(target.meta.id)
    doc_id = check_id(target)
    if action.if_unchanged:
        raise ValueError(f"{type(action).__name__}(if_unchanged=True) needs a document, not an id")
    return None, defaults.index_for(_class_of(action, defaults), action.index), doc_id


def _class_of(action: UpdateAction[Any] | DeleteAction[Any], defaults: Defaults) -> type[AsyncDocument]:
    cls = action.document_class or defaults.document_class
    if cls is None:
        raise ValueError(
            f"{type(action).__name__} by id needs a document class: "
            "use Post.bulk(...), bulk(document_class=Post) or document_class=Post"
        )
    return cls


def _validate_partial(cls: type[AsyncDocument], fields: dict[str, Any], name: str, doc_id: str) -> AsyncDocument:
    """Validate each field on its own, as a hit with those fields only would be."""
    source = {es_field_name(key, cls.model_fields[key]): value for key, value in fields.items()}
    try:
        return reader_for(cls).read({"_index": name, "_id": doc_id, "_source": source}, partial=True)
    except HitValidationError as error:
        raise error.errors from None


def _routing(action: BulkAction[Any], document: AsyncDocument | None) -> str | None:
    if action.routing is not None:
        return action.routing
    return document.meta.routing if document is not None else None


def _header(
    op: str,
    index: str,
    doc_id: str | None,
    routing: str | None,
    if_unchanged: bool,
    document: AsyncDocument | None,
    **extra: Any,
) -> bytes:
    fields: dict[str, Any] = {"_index": index}
    if doc_id is not None:
        fields["_id"] = doc_id
    if routing is not None:
        fields["routing"] = routing
    if if_unchanged:
        meta = document.meta if document is not None else None
        if meta is None or meta.seq_no is None or meta.primary_term is None:
            raise ValueError(
                "if_unchanged=True needs meta.seq_no and meta.primary_term: "
                "load the document from the index (get, search) first"
            )
        fields["if_seq_no"], fields["if_primary_term"] = meta.seq_no, meta.primary_term
    for key, value in extra.items():
        if value is not None:
            fields[key] = value
    return to_json({op: fields}) + b"\n"


def record_success(encoded: Encoded, item: Mapping[str, Any]) -> None:
    """Write what Elasticsearch answered back into the document: id, index, version, seq_no."""
    document = encoded.document
    if document is None:
        return
    if encoded.updates:
        apply_update(document, encoded.updates)
    record_write(document.meta, item, item["_index"], encoded.routing)
