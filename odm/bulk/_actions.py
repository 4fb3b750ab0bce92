"""Bulk actions: what to do with one document, validated and encoded as NDJSON lines.

Encoding is where a bulk input is checked, by the same functions ``save()`` and
``update()`` use (``_writes``): the same ``_source`` bytes, ids, routing and
concurrency tokens. An input that fails is reported by the caller, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Union

from pydantic import BaseModel
from pydantic_core import to_json
from typing_extensions import TypeAlias, TypeVar

from .._core.document_options import is_document, options_of
from .._core.hits import reader_for
from .._core.id_field import take_id
from .._core.names import check_id
from .._core.sentinel import NOT_GIVEN, NotGiven
from .._core.tenancy import TenantView, check_values, refuse_unscoped, stamp
from .._core.writes import (
    Revalidate,
    apply_values,
    concurrency_tokens,
    encode_write,
    encode_writes,
    object_fields,
    record_delete,
    record_write,
    routing_of,
    stored_id,
    update_precondition,
    validate_fields,
    validate_update,
)
from ..errors import BulkInputError, BulkItemError, DocumentStateError, NoIndexError, TenantError

if TYPE_CHECKING:
    from ..document import AsyncDocument

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
    "encode_many",
    "record_success",
]

D = TypeVar("D", bound="AsyncDocument", default="AsyncDocument")


@dataclass(eq=False)
class IndexAction(Generic[D]):
    """Index ``document``, replacing a stored one with the same id; a bare document means this.

    Example: ``IndexAction(post, index="posts-2026-11", if_unchanged=True)``

    Args:
        index: the index to write to, before ``bulk(index=...)``, ``meta.index`` and ``Index.name``.
        routing: the shard routing, else ``meta.routing``.
        pipeline: an ingest pipeline to run.
        if_unchanged: as for ``save()``: by default a loaded document is written only if the
            stored one still has its ``meta.seq_no``/``primary_term``.
    """

    document: D
    _: KW_ONLY
    index: str | None = None
    routing: str | None = None
    pipeline: str | None = None
    if_unchanged: bool | NotGiven = NOT_GIVEN


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
    if_unchanged: bool | NotGiven = NOT_GIVEN
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
    if_unchanged: bool | NotGiven = NOT_GIVEN


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
    objects: list[str] | None = None  # update: object fields merged in the index, read back
    unanswered: bool = False  # a request carrying it got no answer: it may have been applied
    rejected: BulkItemError | None = None  # the 429/503 it is retried after

    @property
    def body(self) -> bytes:
        """The ``_source`` line of an index or create action (a header line never holds a newline)."""
        return self.lines.split(b"\n", 2)[1]


def document_of(action: BulkAction[Any]) -> AsyncDocument | None:
    """The document instance an action is about, if it was given one."""
    document = action.document if isinstance(action, (IndexAction, CreateAction)) else action.target
    return document if is_document(document) else None  # type: ignore[return-value]


@dataclass
class Defaults:
    """What one bulk call gives all its inputs.

    Attributes:
        index: the index of inputs that name none.
        document_class: the model of updates and deletes given by id.
        revalidate: validate each document again from the bytes to be sent (see ``_writes``).
    """

    index: str | None = None
    document_class: type[AsyncDocument] | None = None
    revalidate: Revalidate = "auto"
    #: The tenant scope the bulk was sent through (``TenantScope.bulk``); ``None`` for ``odm.bulk()``.
    tenancy: TenantView | None = None
    #: ``bulk(unscoped=True)``: documents of tenant-scoped classes are written whatever their tenant.
    unscoped: bool = False
    #: ``bulk(timestamps=False)``: documents are written with the timestamps they hold (``_core.timestamps``).
    timestamps: bool = True
    _checked: dict[tuple[type[BaseModel], str | None], str] = field(default_factory=dict, repr=False)
    #: Document classes met in this bulk that have no tenant field: nothing to check for them.
    _untenanted: set[type] = field(default_factory=set, repr=False)

    def index_for(self, cls: type[BaseModel], given: str | None, stored: str | None = None) -> str:
        """The action's index, else ``bulk(index=...)``, else ``meta.index``, else ``Index.name``.

        Each name is checked once per bulk.

        Raises:
            NoIndexError: none of them is set.
        """
        name = given if given is not None else self.index if self.index is not None else stored
        key = (cls, name)
        checked = self._checked.get(key)
        if checked is None:
            if name is None:
                name = options_of(cls).name
            if name is None:
                raise NoIndexError(f"{cls.__name__} has no Index.name; pass index=...")
            checked = self._checked[key] = options_of(cls).write_index(name)
        return checked


def encode(action: BulkAction[Any], position: int, defaults: Defaults) -> Encoded:
    """Validate ``action`` and encode it as NDJSON lines.

    Raises:
        OdmError: the input cannot be sent as given (invalid document or fields, unsafe id
            or index name, no id or tokens where needed, not an action); never sent.
    """
    _check_tenant(action, defaults)
    if isinstance(action, (IndexAction, CreateAction)):
        document, name = _write_target(action, defaults)
        source, doc_id, new = encode_write(document, document.meta, name, defaults.revalidate, stamp=defaults.timestamps)
        return _encoded_write(action, position, name, source, doc_id, new)
    return _encode_other(action, position, defaults)


def encode_many(actions: Sequence[BulkAction[Any]], start: int, defaults: Defaults) -> list[Encoded | Exception]:
    """:func:`encode` of each of ``actions`` (at positions ``start``, ``start + 1``, ..): its
    lines, or the error it raised. The same checks and bytes; the documents of index and
    create actions are encoded together (``encode_writes``: one serializer call per class)."""
    results: list[Encoded | Exception | None] = []
    writes: list[tuple[int, IndexAction[Any] | CreateAction[Any], str]] = []
    for offset, action in enumerate(actions):
        try:
            _check_tenant(action, defaults)
            if isinstance(action, (IndexAction, CreateAction)):
                writes.append((offset, action, _write_target(action, defaults)[1]))
                results.append(None)
            else:
                results.append(_encode_other(action, start + offset, defaults))
        except Exception as error:
            results.append(error)
    pairs = [(action.document, name) for _, action, name in writes]
    for (offset, action, name), outcome in zip(writes, encode_writes(pairs, defaults.revalidate, stamp=defaults.timestamps)):
        try:
            results[offset] = outcome if isinstance(outcome, Exception) else _encoded_write(action, start + offset, name, *outcome)
        except Exception as error:
            results[offset] = error
    return results  # type: ignore[return-value]  # every None was replaced


def _encode_other(action: BulkAction[Any], position: int, defaults: Defaults) -> Encoded:
    """:func:`encode` of an update or a delete (or of something that is no action)."""
    if isinstance(action, UpdateAction):
        return _encode_update(action, position, defaults)
    if isinstance(action, DeleteAction):
        document, name, doc_id = _target(action, defaults)
        lines = _lines("delete", name, doc_id, _routing(action, document), _tokens(action, document, name))
        return Encoded(position, action, lines, document)
    raise BulkInputError(f"bulk() takes documents or bulk actions, not {type(action).__name__}")


def _check_tenant(action: BulkAction[Any], defaults: Defaults) -> None:
    """A tenant-scoped class's input is written only through its scope, for that scope's tenant.

    Raises:
        UnscopedAccessError: a document (or update or delete by id) of a tenant-scoped class
            in a bulk sent without a scope (``odm.bulk()``, or a class's ``bulk()``).
        TenantError: a document of another tenant than the scope's, or an update moving one there.
    """
    subject = action.document if isinstance(action, (IndexAction, CreateAction)) else action.target
    if type(subject) in defaults._untenanted:
        return
    if is_document(subject):
        cls: Any = type(subject)
        if options_of(cls).tenant_field is None:
            defaults._untenanted.add(cls)
            return
    else:
        cls = action.document_class if isinstance(action, (UpdateAction, DeleteAction)) else None
        cls = cls or defaults.document_class
    if defaults.unscoped or cls is None or options_of(cls).tenant_field is None:
        return
    view = defaults.tenancy
    if view is None:
        raise refuse_unscoped(cls, "bulk()")
    if view.tenant is None:
        if is_document(subject):
            stamp(subject, view, defaults.index)  # refuses one that names no tenant
        return
    field = view.field
    index = defaults.index
    if not is_document(subject):  # TenantScope.bulk turned each of its updates and deletes by id into a document's
        raise refuse_unscoped(cls, "bulk() of an update or delete by id")
    if getattr(subject, field) != view.tenant:
        raise TenantError(f"a document of tenant {getattr(subject, field)!r} in a bulk of tenant {view.tenant!r}", index, subject.meta.id, field)  # type: ignore[attr-defined]
    if isinstance(action, UpdateAction):
        check_values(view, action.fields, index, subject.meta.id)  # type: ignore[attr-defined]


def _write_target(action: IndexAction[Any] | CreateAction[Any], defaults: Defaults) -> tuple[AsyncDocument, str]:
    """The document of an index or create action, and the index it goes to."""
    document = action.document
    if type(document) not in defaults._untenanted and not is_document(document):  # _check_tenant met its class
        raise BulkInputError(f"not a document: {type(document).__name__} (bulk() takes documents or bulk actions)")
    return document, defaults.index_for(type(document), action.index, document.meta.index)


def _encoded_write(
    action: IndexAction[Any] | CreateAction[Any], position: int, name: str, source: bytes, doc_id: str | None, new: bool
) -> Encoded:
    """The lines of an index or create action whose document is encoded (``encode_write``)."""
    meta = action.document.meta
    creating = new or isinstance(action, CreateAction)  # nobody else holds an id odm just made
    tokens = {} if creating else concurrency_tokens(meta, name, action.if_unchanged)  # type: ignore[union-attr]  # a create is creating
    routing = routing_of(meta, action.routing)
    lines = _lines("create" if creating else "index", name, doc_id, routing, tokens, source, action.pipeline)
    return Encoded(position, action, lines, action.document, routing)


def _encode_update(action: UpdateAction[Any], position: int, defaults: Defaults) -> Encoded:
    document, name, doc_id = _target(action, defaults)
    cls = type(document) if document is not None else _class_of(action, defaults)
    fields = dict(action.fields)
    if document is not None:
        updates, partial = validate_update(document, fields, name, doc_id, stamp=defaults.timestamps)
    else:
        updates, partial = None, validate_fields(cls, fields, name, doc_id, stamp=defaults.timestamps)
    meta = document.meta if document is not None else None
    extra: dict[str, Any] = update_precondition(meta, name, action.if_unchanged, action.retry_on_conflict)
    objects = object_fields(partial) if document is not None else []
    body: dict[str, Any] = {"doc": partial}
    if objects:
        body["_source"] = objects  # merged in the index: read back what it holds
    lines = _lines("update", name, doc_id, _routing(action, document), extra, to_json(body))
    return Encoded(position, action, lines, document, updates=updates, objects=objects or None)


def _tokens(action: IndexAction[Any] | DeleteAction[Any], document: AsyncDocument | None, index: str) -> dict[str, int]:
    if document is None:
        if action.if_unchanged is True:
            raise DocumentStateError(f"{type(action).__name__}(if_unchanged=True) needs a document, not an id", index)
        return {}
    return concurrency_tokens(document.meta, index, action.if_unchanged)


def _target(
    action: UpdateAction[Any] | DeleteAction[Any], defaults: Defaults
) -> tuple[AsyncDocument | None, str, str]:
    target = action.target
    if is_document(target):
        meta = target.meta  # type: ignore[attr-defined]
        name = defaults.index_for(type(target), action.index, meta.index)
        take_id(target, meta, name)  # a class with an id field: its value
        return target, name, stored_id(meta, name, type(action).__name__)  # type: ignore[return-value]
    doc_id = check_id(target)
    return None, defaults.index_for(_class_of(action, defaults), action.index), doc_id


def _class_of(action: UpdateAction[Any] | DeleteAction[Any], defaults: Defaults) -> type[AsyncDocument]:
    cls = action.document_class or defaults.document_class
    if cls is None:
        raise BulkInputError(
            f"{type(action).__name__} by id needs a document class: "
            "use Post.bulk(...), bulk(document_class=Post) or document_class=Post"
        )
    return cls


def _routing(action: BulkAction[Any], document: AsyncDocument | None) -> str | None:
    return routing_of(document.meta, action.routing) if document is not None else action.routing


@lru_cache(maxsize=1024)
def _header_start(op: str, index: str) -> bytes:
    """``{"<op>":{"_index":"<index>"``: the start of every header line of ``op`` to ``index``, made once."""
    return to_json({op: {"_index": index}})[:-2]


def _json_string(text: str) -> bytes:
    """``text`` (an id, a routing, a key, a pipeline) as a JSON string, the bytes ``to_json(text)`` gives:
    printable ASCII without a quote or backslash (odm's ids, most others) needs no escape and is quoted as it is."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return ('"' + text + '"').encode()
    return to_json(text)


def _lines(
    op: str, index: str, doc_id: str | None, routing: str | None, tokens: Mapping[str, int],
    body: bytes | None = None, pipeline: str | None = None,
) -> bytes:
    """The header line ``{"<op>":{"_index":..,"_id":..,"routing":..,<tokens>,"pipeline":..}}``
    and the ``body`` line after it, if any: an action's NDJSON lines.

    Each part of the header is encoded by pydantic-core as it encodes it in the whole
    header dict (``to_json({op: fields})``, compact): the same bytes for a fraction of the
    cost per document (``tests/unit/test_ndjson_bytes.py`` pins them and compares the two).
    """
    if doc_id is not None and routing is None and not tokens and pipeline is None and body is not None:
        # The common index/create line (a new document, or one written without tokens): one join.
        return b"".join((_header_start(op, index), b',"_id":', _json_string(doc_id), b"}}\n", body, b"\n"))
    parts = [_header_start(op, index)]
    if doc_id is not None:
        parts += (b',"_id":', _json_string(doc_id))
    if routing is not None:
        parts += (b',"routing":', _json_string(routing))
    for key, value in tokens.items():
        parts += (b",", _json_string(key), b":", str(value).encode() if type(value) is int else to_json(value))
    if pipeline is not None:
        parts += (b',"pipeline":', _json_string(pipeline))
    if body is None:
        parts.append(b"}}\n")
    else:
        parts += (b"}}\n", body, b"\n")
    return b"".join(parts)


def record_success(encoded: Encoded, item: Mapping[str, Any]) -> None:
    """Write what Elasticsearch answered back into the document: id, index, version, seq_no."""
    document = encoded.document
    if document is None:
        return
    updates = dict(encoded.updates or {})
    if encoded.objects:
        stored = item.get("get", {}).get("_source", {})
        updates.update(reader_for(type(document)).read_fields(stored, item.get("_index"), item.get("_id")))
    if updates:
        apply_values(document, updates)
    if isinstance(encoded.action, DeleteAction):
        record_delete(document.meta)
    else:
        record_write(document.meta, item, item["_index"], encoded.routing)
