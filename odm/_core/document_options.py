"""What a document class knows about its index, resolved once at class definition.

This is the one reader of ``__odm__``: modules below ``odm.document`` ask it whether
something is a document class and what its options are, instead of importing
``AsyncDocument`` (which imports them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from elasticsearch.dsl.mapping_base import MappingBase
from pydantic import BaseModel
from typing_extensions import TypeGuard

from ..errors import MappingError
from ..mapping import es_field_name, mapping_for
from .names import check_write_index

if TYPE_CHECKING:
    from ..connections import UsingType

__all__ = [
    "DocumentOptions",
    "IdField",
    "IncompleteDocument",
    "Timestamps",
    "is_document",
    "is_document_class",
    "option_names",
    "options_of",
]

_INDEX_KEYS = frozenset(
    {"name", "settings", "aliases", "analyzers", "using", "keep_unknown_fields", "versioned", "data_stream",
     "id_field", "id_in_source", "client_ids", "allow_dot_prefix", "tenant_field", "tenant_routing", "tenant_aliases",
     "server_owned", "timestamps"}
)

#: The fields ``class Index: timestamps = True`` names (docs/documents.md#timestamps).
DEFAULT_TIMESTAMPS = ("created_at", "updated_at")

# Elasticsearch field types whose value can be a document id (its text, as Elasticsearch keeps ids).
_ID_TYPES = frozenset({"keyword", "constant_keyword", "text", "long", "integer", "short", "byte", "unsigned_long"})


@dataclass(frozen=True, slots=True)
class IdField:
    """The model field that is the document id (``class Index: id_field = "sku"``).

    Attributes:
        name: the field's Python name.
        es_name: the key it would have in ``_source``.
        stored: also kept in ``_source`` and the mapping (``Index.id_in_source = True``);
            by default it is only the ``_id``, and reads fill it from there.
    """

    name: str
    es_name: str
    stored: bool


@dataclass(frozen=True, slots=True)
class Timestamps:
    """The fields odm sets on every write (``class Index: timestamps = True``).

    Attributes:
        created: the field set once, when odm writes a document it does not know to be stored.
        updated: the field set on every write of the document (index, create, update).
    """

    created: str
    updated: str


@dataclass(frozen=True)
class DocumentOptions:
    """The merged ``class Index`` of a document class and its derived mapping.

    A subclass inherits its parents' ``Index`` and may override any key; ``settings``
    and ``aliases`` are merged key by key, the subclass winning (an alias set to ``None``
    in a subclass is removed).
    """

    name: str | None
    settings: Mapping[str, Any]
    aliases: Mapping[str, Any]
    analyzers: tuple[Any, ...]
    using: UsingType
    mapping: MappingBase = field(repr=False)
    keep_unknown_fields: bool = True
    #: ``Index.name`` is an alias of ``<name>-v<N>`` indices, created and moved by odm (docs/schema-drift.md).
    versioned: bool = False
    #: ``Index.name`` is a data stream: append-only, written with ``op_type=create`` (docs/indices-and-templates.md).
    data_stream: bool = False
    #: A document without an id gets one from odm before its first send (``_core.retry.new_id``), so a
    #: re-send meets its own document; ``False``: Elasticsearch makes the id (a lost answer may store two).
    client_ids: bool = True
    #: The keys odm writes in ``_source``: fields and computed fields, by Elasticsearch name.
    source_names: frozenset[str] = frozenset()
    #: The field that is the document id, if the class names one (docs/documents.md#the-id-field).
    id_field: IdField | None = None
    #: The field naming each document's tenant (python name), for a tenant-scoped class (docs/tenancy.md).
    tenant_field: str | None = None
    #: That field's name in Elasticsearch (its alias, if it has one).
    tenant_source_name: str | None = None
    #: Documents are routed by their tenant: one tenant's documents share a shard.
    tenant_routing: bool = False
    #: Scoped reads go through the tenant's filtered alias ``<Index.name>.tenant.<tenant>``.
    tenant_aliases: bool = False
    #: Fields set by the server's code only (python names): request schemas show them, never take them.
    #: ``Index.server_owned``, and the tenant field.
    server_owned: frozenset[str] = frozenset()
    #: ``Index.allow_dot_prefix``: writes and init() may go to a name starting with "." (names.check_write_index).
    allow_dot_prefix: bool = False
    #: ``Index.timestamps``: the created/updated fields odm sets on every write (_core.timestamps).
    timestamps: Timestamps | None = None

    def write_index(self, name: str) -> str:
        """``name``, checked as an index this class may write to or create (:func:`~.names.check_write_index`).

        Raises:
            InvalidIndexNameError: not a valid index name, or a system index's.
        """
        return check_write_index(name, self.allow_dot_prefix, self.name if self.data_stream else None)

    @cached_property
    def index_patterns(self) -> tuple[str, ...]:
        """Names a hit's ``_index`` is matched against when a search has several models."""
        if self.name is None:
            return ()
        return (self.name, *self.aliases, f"{self.name}-*", f"{self.name}_*")

    @classmethod
    def for_class(cls, document: type[BaseModel], write_options: Mapping[str, tuple[str, ...]] | None = None) -> DocumentOptions:
        """Merge the ``Index`` classes along the MRO and map the fields.

        Args:
            write_options: the options the class's writes take by name (:func:`option_names`);
                no field may be named like one.

        Raises:
            MappingError: an unknown ``Index`` key, a field named ``meta`` or like a write
                option, or an unmappable type.
        """
        merged: dict[str, Any] = {"settings": {}, "aliases": {}}
        for klass in reversed(document.__mro__):
            index = klass.__dict__.get("Index")
            if index is None:
                continue
            options = {k: v for k, v in vars(index).items() if not k.startswith("_")}
            unknown = set(options) - _INDEX_KEYS
            if unknown:
                raise MappingError(
                    f"{document.__qualname__}.Index: unknown option(s) {sorted(unknown)}; "
                    f"allowed: {sorted(_INDEX_KEYS)}"
                )
            for key in ("settings", "aliases"):
                merged[key] = {**merged[key], **dict(options.pop(key, {}))}
            merged.update(options)
        # A subclass removes an inherited alias by setting it to None.
        merged["aliases"] = {alias: body for alias, body in merged["aliases"].items() if body is not None}
        for name, info in document.model_fields.items():
            if name != "meta" and es_field_name(name, info) == "meta":
                raise MappingError(f"{document.__qualname__}.{name}: 'meta' is reserved for Meta")
        _refuse_option_names(document, write_options or {})
        id_field = _id_field(document, merged)
        unmapped = frozenset({id_field.name}) if id_field is not None and not id_field.stored else frozenset()
        versioned = bool(merged.get("versioned", False))
        if versioned and merged.get("name") in merged["aliases"]:
            raise MappingError(
                f"{document.__qualname__}.Index: a versioned class's name {merged['name']!r} is the alias odm "
                "manages; it cannot be in Index.aliases too"
            )
        tenant_field, tenant_source_name = _tenant_field(document, merged)
        timestamps = _timestamps(document, merged, id_field, tenant_field)
        owned = (timestamps.created, timestamps.updated) if timestamps is not None else ()
        return cls(
            name=merged.get("name"),
            settings=merged["settings"],
            aliases=merged["aliases"],
            analyzers=tuple(merged.get("analyzers", ())),
            using=merged.get("using", "default"),
            mapping=mapping_for(document, exclude=unmapped),
            keep_unknown_fields=bool(merged.get("keep_unknown_fields", True)),
            versioned=versioned,
            data_stream=_data_stream(document, merged, versioned),
            client_ids=bool(merged.get("client_ids", True)),
            allow_dot_prefix=bool(merged.get("allow_dot_prefix", False)),
            source_names=frozenset(
                [es_field_name(name, info) for name, info in document.model_fields.items() if name not in unmapped]
                + [info.alias or name for name, info in document.model_computed_fields.items()]
            ),
            id_field=id_field,
            tenant_field=tenant_field,
            tenant_source_name=tenant_source_name,
            tenant_routing=bool(merged.get("tenant_routing", False)),
            tenant_aliases=bool(merged.get("tenant_aliases", False)),
            server_owned=_server_owned(document, merged, tenant_field) | frozenset(owned),
            timestamps=timestamps,
        )


def _id_field(document: type[BaseModel], merged: Mapping[str, Any]) -> IdField | None:
    """``Index.id_field`` (and ``id_in_source``), checked: a field whose value can be an id.

    Raises:
        MappingError: no such field, or a field whose type cannot hold an id.
    """
    name = merged.get("id_field")
    where = f"{document.__qualname__}.Index"
    if name is None:
        if merged.get("id_in_source"):
            raise MappingError(f"{where}: id_in_source goes with id_field = '<field name>'")
        return None
    info = document.model_fields.get(name) if isinstance(name, str) and name != "meta" else None
    if info is None:
        fields = sorted(field for field in document.model_fields if field != "meta")
        raise MappingError(f"{where}: id_field = {name!r} is not a field of {document.__qualname__} (fields: {fields})")
    es_name = es_field_name(name, info)
    es_type = mapping_for(document).to_dict().get("properties", {}).get(es_name, {}).get("type")
    if es_type not in _ID_TYPES or get_origin(info.annotation) in (list, set, frozenset, tuple):
        raise MappingError(
            f"{where}: id_field = {name!r} is {info.annotation!r}, mapped as {es_type!r}; an id field holds one "
            "string, integer or UUID"
        )
    return IdField(name, es_name, bool(merged.get("id_in_source", False)))


def option_names(*methods: Callable[..., Any]) -> dict[str, tuple[str, ...]]:
    """The options ``methods`` take by name, each with the methods that take it.

    Read from the signatures, so the list follows them: every parameter a caller can
    pass by keyword, except ``**kwargs`` (which is where the field values go).
    Example: ``option_names(AsyncDocument.update)["index"] == ("update",)``
    """
    takers: dict[str, list[str]] = {}
    for method in methods:
        for parameter in inspect.signature(method).parameters.values():
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                if parameter.name not in ("self", "cls"):
                    takers.setdefault(parameter.name, []).append(method.__name__)
    return {name: tuple(methods_) for name, methods_ in takers.items()}


def _refuse_option_names(document: type[BaseModel], write_options: Mapping[str, tuple[str, ...]]) -> None:
    """A field named like an option of a write would let a value become that option.

    With ``doc.update(**body)``, a request's ``{"index": "other"}`` would choose the index
    written to; so the class is refused, as a field named ``meta`` is.

    Raises:
        MappingError: naming the field, the writes that take it, and the alias to use instead.
    """
    for name in document.model_fields:
        takers = write_options.get(name)
        if takers is None:
            continue
        es_name = es_field_name(name, document.model_fields[name])
        raise MappingError(
            f"{document.__qualname__}.{name}: a field cannot be named {name!r}, an option of "
            f"{', '.join(taker + '()' for taker in takers)}: a value sent as that field could choose the "
            f"write's {name} instead of being stored. Give the attribute another name and keep the "
            f"Elasticsearch field's with an alias: {name}_: ... = Field(alias={es_name!r})"
        )


def _server_owned(document: type[BaseModel], merged: Mapping[str, Any], tenant_field: str | None) -> frozenset[str]:
    """``Index.server_owned`` (field names), checked, with the tenant field.

    Raises:
        MappingError: not a collection of names, or a name that is not a field of the class.
    """
    given = merged.get("server_owned", ())
    if isinstance(given, str) or not all(isinstance(name, str) for name in given):
        raise MappingError(f"{document.__qualname__}.Index: server_owned is a collection of field names, not {given!r}")
    unknown = sorted(set(given) - set(document.model_fields))
    if unknown:
        raise MappingError(f"{document.__qualname__}.Index: server_owned names {unknown}, which are not fields of the class")
    return frozenset(given) | ({tenant_field} if tenant_field is not None else frozenset())


def _timestamps(
    document: type[BaseModel], merged: Mapping[str, Any], id_field: IdField | None, tenant_field: str | None
) -> Timestamps | None:
    """``Index.timestamps``, checked: ``True`` (``created_at``, ``updated_at``), ``False``, or the
    two field names, each a ``datetime | None = None`` field mapped as a date.

    Raises:
        MappingError: another value, a name that is not a field, a field of another type,
            without the ``None`` default, not mapped as ``date``/``date_nanos``, the same
            field twice, or the id or tenant field.
    """
    given = merged.get("timestamps", False)
    where = f"{document.__qualname__}.Index"
    if given is False or given is None:
        return None
    if given is True:
        names: Any = DEFAULT_TIMESTAMPS
    else:
        names = given
    if (
        not isinstance(names, tuple) or len(names) != 2 or not all(isinstance(name, str) for name in names)
        or names[0] == names[1]
    ):
        raise MappingError(
            f"{where}: timestamps is True (fields created_at and updated_at) or a pair of two field names "
            f"(created, updated), e.g. ('created_at', 'modified_at'); not {given!r}"
        )
    properties = mapping_for(document).to_dict().get("properties", {})
    for role, name in zip(("created", "updated"), names):
        info = document.model_fields.get(name) if name != "meta" else None
        declare = f"{name}: datetime | None = None"
        if info is None:
            raise MappingError(f"{where}: timestamps names {name!r} ({role}), which is not a field: declare {declare}")
        if name in (id_field.name if id_field is not None else None, tenant_field):
            raise MappingError(f"{where}: timestamps names {name!r}, the class's id or tenant field: declare {declare}")
        if not _optional_datetime(info.annotation) or info.default is not None or info.default_factory is not None:
            raise MappingError(
                f"{document.__qualname__}.{name}: a timestamp odm sets is declared {declare} (None until odm "
                f"writes the document), not {info.annotation!r} with default {info.default!r}"
            )
        kind = properties.get(es_field_name(name, info), {}).get("type")
        if kind not in ("date", "date_nanos"):
            raise MappingError(f"{document.__qualname__}.{name}: a timestamp is mapped as a date, not {kind!r}")
    return Timestamps(names[0], names[1])


def _optional_datetime(annotation: Any) -> bool:
    """Whether ``annotation`` is ``datetime | None`` (its ``datetime`` may carry ``Annotated`` metadata)."""
    if get_origin(annotation) not in (Union, UnionType):
        return False
    members = {get_args(member)[0] if get_origin(member) is Annotated else member for member in get_args(annotation)}
    return members == {datetime, NoneType}


def _tenant_field(document: type[BaseModel], merged: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``Index.tenant_field``, checked: a declared ``keyword`` field (python name), and its stored name.

    Raises:
        MappingError: not a field of the class, or not mapped as ``keyword``; routing or
            aliases by tenant without a tenant field.
    """
    field = merged.get("tenant_field")
    where = f"{document.__qualname__}.Index"
    if field is None:
        for option in ("tenant_routing", "tenant_aliases"):
            if merged.get(option):
                raise MappingError(f"{where}: {option} needs tenant_field, the field that names each document's tenant")
        return None, None
    info = document.model_fields.get(field) if isinstance(field, str) else None
    if info is None:
        raise MappingError(f"{where}: tenant_field = {field!r} is not a field of {document.__qualname__}")
    stored = es_field_name(field, info)
    kind = mapping_for(document).to_dict().get("properties", {}).get(stored, {}).get("type")
    if kind != "keyword":
        raise MappingError(
            f"{where}: tenant_field = {field!r} is mapped as {kind!r}; a tenant is matched exactly, so it must be "
            f"a keyword field: {field}: Annotated[str, Keyword()]"
        )
    return field, stored


def _data_stream(document: type[BaseModel], merged: Mapping[str, Any], versioned: bool) -> bool:
    """``Index.data_stream``, checked: a data stream needs a ``@timestamp`` date field.

    Raises:
        MappingError: no ``@timestamp`` date field, or ``versioned`` too.
    """
    if not merged.get("data_stream", False):
        return False
    where = f"{document.__qualname__}.Index"
    if versioned:
        raise MappingError(f"{where}: a data stream cannot be versioned (its backing indices are Elasticsearch's)")
    timestamp = mapping_for(document).to_dict().get("properties", {}).get("@timestamp", {})
    if timestamp.get("type") not in ("date", "date_nanos"):
        raise MappingError(
            f"{where}: data_stream = True needs a datetime field stored as '@timestamp', e.g. "
            "timestamp: datetime = Field(alias='@timestamp')"
        )
    return True


class IncompleteDocument:
    """Stands in for the options of a class whose annotations are not all resolved yet.

    Any use says which class it is and what to do, instead of silently using the
    options inherited from a parent class.
    """

    def __init__(self, document: type[BaseModel]) -> None:
        self._document = document

    def __getattr__(self, name: str) -> Any:
        cls = self._document.__qualname__
        raise MappingError(
            f"{cls} is not fully defined: some annotations name types that do not exist yet. "
            f"Define them, then call {cls}.model_rebuild()"
        )


def options_of(cls: type) -> DocumentOptions:
    """The options of a document class.

    Raises:
        MappingError: ``cls`` is not fully defined yet (see :class:`IncompleteDocument`).
    """
    options: DocumentOptions = getattr(cls, "__odm__")
    return options


def is_document_class(candidate: object) -> TypeGuard[type[BaseModel]]:
    """Whether ``candidate`` is an ``AsyncDocument`` subclass (one that maps fields)."""
    return isinstance(candidate, type) and isinstance(
        getattr(candidate, "__odm__", None), (DocumentOptions, IncompleteDocument)
    )


def is_document(candidate: object) -> TypeGuard[BaseModel]:
    """Whether ``candidate`` is an instance of an ``AsyncDocument`` subclass."""
    return is_document_class(type(candidate))
