"""Request and response schemas derived from a document class, with ``pydantic.create_model``.

A document class is a fine response type, but a request body needs its own schema:
what a client may send to create a document, to update one, and what it gets back.
None of them has ``meta`` (the id, index and routing a write goes to come from code,
never from a request body), and each keeps the document's field constraints, aliases,
descriptions and its ``bytes`` handling (standard base64 in JSON, as stored).

- :func:`create_schema`: the fields a client may set, as the document declares them; an
  ``id`` only with ``client_ids=True``. :func:`new_document` turns a body into a document.
- :func:`update_schema`: those fields optional, unset by default; the body's
  ``model_dump(exclude_unset=True)`` is what to pass to ``doc.update(values)``.
- :func:`public_schema`: the fields plus ``id`` (and, if asked, ``version``, ``score``,
  ``highlight``); :func:`to_public` builds it from a document.

A class with an id field (``class Index: id_field = "sku"``) has its id in that field:
the create and public schemas hold it as declared (no second ``id``), and the update
schema leaves it out, since a request body cannot move a stored document to another id.

Server-owned fields (``Index.server_owned``, and a tenant-scoped class's tenant field) are
set by the service's code: the public schema shows them, the create and update schemas
never take them (docs/fastapi.md). Each takes ``include`` or ``exclude`` to choose fields.

The same arguments give the same class (they are cached), so OpenAPI names each schema
once. Model validators (``@model_validator``) of the document are not copied: they need
the whole document, which :func:`new_document` and ``update()`` validate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema

from .._core.document_options import is_document_class, options_of
from .._core.names import check_id
from .._core.stored_values import as_stored
from ..document import AsyncDocument
from ..errors import ArgumentError, DocumentStateError, DocumentValidationError

__all__ = ["create_schema", "new_document", "page_schema", "public_schema", "to_public", "update_schema"]

D = TypeVar("D", bound=AsyncDocument)
Extra = Literal["ignore", "forbid"]

# Keys of the document's model_config that are about the document, not about a request body.
_NOT_INHERITED = frozenset({"title", "json_schema_extra", "extra", "validate_assignment", "frozen", "validate_default"})


class _StoredValues(BaseModel):
    """Base of the derived schemas: ``bytes`` in JSON as standard base64, as documents store them."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = as_stored(handler(source))
        return schema


@dataclass(frozen=True)
class _SchemaInfo:
    """What a derived schema was made from, for :func:`new_document` and :func:`to_public`."""

    document: type[AsyncDocument]
    kind: Literal["create", "update", "public"]
    id_field: str | None
    meta_fields: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


_INFO: dict[type[BaseModel], _SchemaInfo] = {}

#: The meta values :func:`public_schema` can add, with their types.
_META_EXTRAS: dict[str, Any] = {
    "version": int | None,
    "score": float | None,
    "highlight": dict[str, list[str]] | None,
}

_CheckedId = Annotated[str, AfterValidator(check_id)]

# What update_schema() keeps of a field besides its type and constraints.
_DESCRIBING = (
    "alias", "validation_alias", "serialization_alias", "title", "description", "examples", "deprecated",
    "discriminator", "exclude",
)


def create_schema(
    document: type[AsyncDocument],
    *,
    client_ids: bool = False,
    id_field: str = "id",
    extra: Extra = "ignore",
    name: str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> type[BaseModel]:
    """The body of a create request: the fields a client may set, as declared; no ``meta``.

    Server-owned fields (``Index.server_owned``, the tenant field) are never in it: give
    them to :func:`new_document`. Example:
    ``create_schema(Ticket, exclude={"internal_note"})``

    Args:
        include: only these fields (none of them server-owned).
        exclude: every field but these.
        client_ids: add an optional ``id_field`` (``str``) for the client to choose the
            document id; it is checked as odm checks ids (``..`` is refused, 422).
        id_field: the name of that field.
        extra: ``"ignore"`` drops unknown keys (a ``"meta"`` key included) as pydantic
            does by default; ``"forbid"`` answers them with 422.
        name: the schema's name in OpenAPI (default ``<Document>Create``); give one to each
            of several create schemas of a class.

    Raises:
        ArgumentError: not a document class, ``id_field`` is also a field of it, or
            ``include``/``exclude`` name a field it does not have, or a server-owned one.
    """
    return _create_schema(document, client_ids, id_field, extra, name, *_selection(include, exclude))


@functools.cache
def _create_schema(
    document: type[AsyncDocument], client_ids: bool, id_field: str, extra: Extra, name: str | None,
    include: frozenset[str] | None, exclude: frozenset[str],
) -> type[BaseModel]:
    selected = _selected(document, include, exclude, "create")
    fields: dict[str, Any] = {field: (info.annotation, info) for field, info in selected.items()}
    own = options_of(document).id_field
    if client_ids and own is not None:
        raise ArgumentError(
            f"{document.__name__}.{own.name} is the document id, and the create schema holds it: "
            "client_ids=True would add a second one"
        )
    if client_ids:
        _check_free(document, id_field, "the client's id")
        described = Field(default=None, description="The document id; generated if omitted.")
        fields[id_field] = (_CheckedId | None, described)
    doc = f"What a client sends to create a {document.__name__}."
    schema = _model(document, name or f"{document.__name__}Create", extra, fields, doc)
    _INFO[schema] = _SchemaInfo(document, "create", id_field if client_ids else None, fields=tuple(selected))
    return schema


def update_schema(
    document: type[AsyncDocument],
    *,
    extra: Extra = "ignore",
    name: str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> type[BaseModel]:
    """The body of a partial update: the fields a client may set, optional and unset unless given.

    A field that is given is validated as the document declares it (``null`` only where
    the field allows ``None``). ``body.model_dump(exclude_unset=True)`` is then what to
    pass to ``doc.update(values)`` (as the positional mapping, so no key of it can be
    taken for an option), which validates the whole document (model validators
    included) before sending anything.

    Args:
        extra, include, exclude: as for :func:`create_schema` (server-owned fields are never in it).
        name: the schema's name in OpenAPI (default ``<Document>Update``).

    Raises:
        ArgumentError: not a document class, or ``include``/``exclude`` as for :func:`create_schema`.
    """
    return _update_schema(document, extra, name, *_selection(include, exclude))


@functools.cache
def _update_schema(
    document: type[AsyncDocument], extra: Extra, name: str | None, include: frozenset[str] | None, exclude: frozenset[str]
) -> type[BaseModel]:
    own = options_of(document).id_field  # the document id: a request body cannot move a stored document
    selected = {
        field: info for field, info in _selected(document, include, exclude, "update").items()
        if own is None or field != own.name
    }
    fields = {field: _optional(info) for field, info in selected.items()}
    doc = f"A partial update of a {document.__name__}: only the fields given are changed."
    schema = _model(document, name or f"{document.__name__}Update", extra, fields, doc)
    _INFO[schema] = _SchemaInfo(document, "update", None, fields=tuple(selected))
    return schema


def public_schema(
    document: type[AsyncDocument],
    *,
    id_field: str = "id",
    version: bool = False,
    score: bool = False,
    highlight: bool = False,
    name: str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> type[BaseModel]:
    """What a client reads: the fields of ``document`` (server-owned ones too) plus ``id_field: str``.

    Args:
        include: only these fields; ``exclude``: every field but these.
        version, score, highlight: add ``version: int | None``, ``score: float | None``,
            ``highlight: dict[str, list[str]] | None`` (from ``meta``) as ordinary fields.
        name: the schema's name in OpenAPI (default ``<Document>Public``).

    Raises:
        ArgumentError: not a document class, one of the added names is also a field of it,
            or ``include``/``exclude`` name a field it does not have.
    """
    return _public_schema(document, id_field, version, score, highlight, name, *_selection(include, exclude))


@functools.cache
def _public_schema(
    document: type[AsyncDocument], id_field: str, version: bool, score: bool, highlight: bool, name: str | None,
    include: frozenset[str] | None, exclude: frozenset[str],
) -> type[BaseModel]:
    selected = _selected(document, include, exclude, "public")
    fields: dict[str, Any] = {field: (info.annotation, info) for field, info in selected.items()}
    own = options_of(document).id_field
    if own is None:  # else the class's own id field is the id
        _check_free(document, id_field, "the document id")
        fields[id_field] = (str, Field(description="The document id."))
    wanted = [key for key, asked in (("version", version), ("score", score), ("highlight", highlight)) if asked]
    for key in wanted:
        _check_free(document, key, f"meta.{key}")
        fields[key] = (_META_EXTRAS[key], Field(default=None))
    doc = f"A {document.__name__} as a client reads it."
    schema = _model(document, name or f"{document.__name__}Public", "ignore", fields, doc)
    _INFO[schema] = _SchemaInfo(document, "public", id_field if own is None else None, tuple(wanted), tuple(selected))
    return schema


def to_public(document: AsyncDocument, schema: type[BaseModel] | None = None) -> BaseModel:
    """``document`` as its public schema (by default ``public_schema(type(document))``).

    Raises:
        DocumentStateError: the document has no ``meta.id`` (it was never saved).
        ArgumentError: ``schema`` was not made by :func:`public_schema` for this class.
    """
    schema = schema if schema is not None else public_schema(type(document))
    info = _INFO.get(schema)
    if info is None or info.kind != "public" or not isinstance(document, info.document):
        raise ArgumentError(f"{schema.__name__} is not a public_schema() of {type(document).__name__}")
    meta = document.meta
    if meta.id is None:
        raise DocumentStateError("to_public() needs meta.id: save the document first", meta.index)
    values: dict[str, Any] = {field: getattr(document, field) for field in info.fields}
    if info.id_field is not None:
        values[info.id_field] = meta.id
    for key in info.meta_fields:
        values[key] = getattr(meta, key)
    return schema.model_validate(values)


def new_document(document: type[D], body: BaseModel, **server_values: Any) -> D:
    """A new ``document`` from a body of :func:`create_schema`; ``meta.id`` from its id field if any.

    ``server_values`` are the fields the server's code sets (server-owned ones, or any the
    schema left out): ``new_document(Ticket, body, created_at=now)``. A tenant scope's
    ``save()`` stamps the tenant. The document is validated whole, so its model
    validators run here.

    Raises:
        DocumentValidationError: the document is invalid (e.g. a model validator refused it).
        ArgumentError: ``body`` is not of a :func:`create_schema` of ``document``, or a
            server value names a field the body carries (or no field at all).
    """
    info = _INFO.get(type(body))
    if info is None or info.kind != "create" or not issubclass(document, info.document):
        raise ArgumentError(f"{type(body).__name__} is not a create_schema() of {document.__name__}")
    clash = sorted(set(server_values) & set(info.fields) | set(server_values) - set(_fields(document)))
    if clash:
        raise ArgumentError(
            f"new_document(): {clash} are fields of the body or no fields of {document.__name__}; "
            "server values set the fields a client cannot"
        )
    exclude = {info.id_field} if info.id_field is not None else set()
    values = body.model_dump(exclude=exclude)
    doc_id = getattr(body, info.id_field) if info.id_field is not None else None
    try:
        return document(**values, **server_values, meta={"id": doc_id})
    except ValidationError as error:
        raise DocumentValidationError(options_of(document).name, doc_id, error) from error


@functools.cache
def page_schema(item: type[BaseModel], name: str | None = None) -> type[BaseModel]:
    """A page of :func:`odm.fastapi.paginate` as a response: ``items: list[item]``, ``next_cursor: str | None``."""
    return create_model(
        name or f"{item.__name__}Page",
        __module__=item.__module__,
        items=(list[item], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, Field(default=None, description="Send it back as `cursor`; null on the last page.")),
    )


# -- helpers ----------------------------------------------------------------------------


def _fields(document: type[AsyncDocument]) -> dict[str, FieldInfo]:
    if not is_document_class(document):
        raise ArgumentError(f"{document!r} is not an AsyncDocument subclass")
    return {field: info for field, info in document.model_fields.items() if field != "meta"}


def _selection(include: Iterable[str] | None, exclude: Iterable[str]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """``include`` and ``exclude`` as hashable sets (the schemas are cached by their arguments)."""
    if isinstance(include, str) or isinstance(exclude, str):
        raise ArgumentError("include and exclude take a collection of field names, not one string")
    return (frozenset(include) if include is not None else None), frozenset(exclude)


def _selected(
    document: type[AsyncDocument], include: frozenset[str] | None, exclude: frozenset[str],
    kind: Literal["create", "update", "public"],
) -> dict[str, FieldInfo]:
    """The fields of a schema of ``kind``: ``include`` (or all) less ``exclude``, and for a
    request body less the server-owned fields, in the document's order.

    Raises:
        ArgumentError: a name that is not a field, or a server-owned field in a request body.
    """
    fields = _fields(document)
    unknown = sorted((include or frozenset()) - set(fields) | exclude - set(fields))
    if unknown:
        raise ArgumentError(f"{document.__name__} has no field(s) {unknown}; its fields are {sorted(fields)}")
    owned = options_of(document).server_owned if kind != "public" else frozenset()
    if include is not None and include & owned:
        raise ArgumentError(
            f"{sorted(include & owned)} of {document.__name__} are server-owned (Index.server_owned or the tenant "
            f"field): a {kind} body never takes them; set them in code (new_document(..., field=value))"
        )
    return {
        field: info for field, info in fields.items()
        if (include is None or field in include) and field not in exclude and field not in owned
    }


def _check_free(document: type[AsyncDocument], field: str, what: str) -> None:
    if field in document.model_fields:
        raise ArgumentError(
            f"{document.__name__} has a field named {field!r}; pass another name for {what} "
            f"(id_field=... for the id)"
        )


def _optional(info: FieldInfo) -> tuple[Any, Any]:
    """A field's type and constraints, its alias and description, with ``None`` as an unset default.

    Rebuilt from public attributes rather than copied: the default or default factory
    must go, and ``validate_default`` must be off, since ``None`` may not be valid.
    """
    kept = {name: getattr(info, name) for name in _DESCRIBING if getattr(info, name) is not None}
    annotation: Any = info.annotation
    if info.metadata:  # constraints (MinLen, Ge, ...) and the mapping's markers (Keyword(), ...)
        annotated: Any = Annotated
        arguments = (annotation, *info.metadata)
        annotation = annotated[arguments]
    extra = _without_default(info.json_schema_extra)
    return annotation, Field(default=None, validate_default=False, json_schema_extra=extra, **kept)


def _without_default(original: Any) -> Callable[[dict[str, Any]], None]:
    """A field's ``json_schema_extra`` that drops ``"default": null``: an unset field is not null."""

    def extra(schema: dict[str, Any]) -> None:
        if isinstance(original, dict):
            schema.update(original)
        elif callable(original):
            original(schema)
        schema.pop("default", None)

    return extra


def _model(
    document: type[AsyncDocument], name: str, extra: Extra, fields: dict[str, Any], doc: str
) -> type[BaseModel]:
    inherited = {key: value for key, value in document.model_config.items() if key not in _NOT_INHERITED}
    config = ConfigDict(**{**inherited, "extra": extra, "allow_inf_nan": False})  # type: ignore[typeddict-item]
    base = type(f"{name}Base", (_StoredValues,), {"model_config": config, "__module__": document.__module__})
    return create_model(name, __base__=base, __module__=document.__module__, __doc__=doc, **fields)
