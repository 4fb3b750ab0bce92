"""``Meta``: what Elasticsearch knows about a document that is not in its ``_source``.

Also the shapes meta holds: :class:`NestedIdentity` (where a nested inner hit sits in
its document) and :class:`InnerHits` (one named section of inner hits, each hit an
:class:`InnerHit` once ``_hits`` has typed it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, get_type_hints, overload

from pydantic import AliasChoices, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.dataclasses import dataclass
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from .errors import ArgumentError

__all__ = ["InnerHit", "InnerHits", "Meta", "NestedIdentity", "Total"]

M = TypeVar("M")

_FROM_UNDERSCORED = ("id", "index", "score", "version", "seq_no", "primary_term", "routing", "nested")


class Total(NamedTuple):
    """``hits.total``: ``relation`` is ``"eq"`` for an exact count, ``"gte"`` for a lower bound."""

    value: int
    relation: str


def total_of(section: Mapping[str, Any], count: int) -> Total:
    """The ``total`` of a ``hits`` section; ``count`` hits when it has none (or a plain number)."""
    total = section.get("total")
    if isinstance(total, Mapping):
        return Total(total["value"], total["relation"])
    return Total(total if isinstance(total, int) else count, "eq")


@dataclass(slots=True, frozen=True, config=ConfigDict(extra="ignore"))
class NestedIdentity:
    """Where a nested inner hit sits: ``comments[offset]``, and below it ``child`` for deeper levels.

    ``field`` is the nested field's path from the level above (``"comments"``,
    ``"author.comments"``; ``"replies"`` for a child).
    """

    field: str
    offset: int
    child: NestedIdentity | None = Field(default=None, validation_alias=AliasChoices("_nested", "child"))

    @property
    def path(self) -> str:
        """The full dotted path from the document: ``"comments.replies"``."""
        return self.field if self.child is None else f"{self.field}.{self.child.path}"


@dataclasses.dataclass(frozen=True, slots=True)
class InnerHit(Generic[M]):
    """One inner hit: ``doc`` its model, ``meta`` what Elasticsearch says about it.

    For a nested inner hit, ``doc`` is the nested object (a ``Comment``) and ``meta`` has
    the parent's ``id``/``index``, the hit's ``score``, ``highlight``, ``sort`` and
    ``nested`` (field and offset). For a collapse inner hit, ``doc`` is a document of the
    searched class and ``meta`` is ``doc.meta``.
    """

    doc: M
    meta: Meta


class InnerHits(list["InnerHit[Any] | dict[str, Any]"]):
    """One named section of ``meta.inner_hits``: its hits in order, with ``total`` and ``max_score``.

    A hit is an :class:`InnerHit` when odm knows its class (a nested field's model, or the
    searched class for a collapse); otherwise it stays the raw dict Elasticsearch sent.
    :meth:`of` gives them typed.
    """

    total: Total
    max_score: float | None

    def __init__(self, hits: list[InnerHit[Any] | dict[str, Any]], total: Total, max_score: float | None) -> None:
        super().__init__(hits)
        self.total = total
        self.max_score = max_score

    def of(self, model: type[M]) -> list[InnerHit[M]]:
        """The hits, typed: each must be an :class:`InnerHit` whose ``doc`` is a ``model``.

        Example: ``for hit in post.meta.inner_hits["comments"].of(Comment): hit.doc.author``

        Raises:
            ArgumentError: a hit is a raw dict or holds another class.
        """
        for hit in self:
            if not (isinstance(hit, InnerHit) and isinstance(hit.doc, model)):
                found = type(hit.doc).__name__ if isinstance(hit, InnerHit) else "raw dicts (no model for them)"
                raise ArgumentError(f"these inner hits hold {found}, not {model.__name__}")
        return list(self)  # type: ignore[arg-type]  # checked above

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Read from a hit's raw section; serialized back in that shape.
        return cs.no_info_plain_validator_function(
            _section, serialization=cs.plain_serializer_function_ser_schema(_raw_section)
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # As serialized: Elasticsearch's section, {"hits": {"total": .., "max_score": .., "hits": [..]}}.
        return {"type": "object", "properties": {"hits": {"type": "object"}}}


def _section(value: Any) -> InnerHits:
    """A raw ``inner_hits`` section (``{"hits": {"total": .., "hits": [..]}}``), hits left as dicts."""
    if isinstance(value, InnerHits):
        return value
    if not isinstance(value, Mapping) or not isinstance(value.get("hits", {}), Mapping):
        raise ValueError("an inner_hits section is an object with a 'hits' object")
    hits = value.get("hits", {})
    found = list(hits.get("hits", []))
    return InnerHits(found, total_of(hits, len(found)), hits.get("max_score"))


def _raw_section(section: InnerHits) -> dict[str, Any]:
    hits = [{"doc": hit.doc, "meta": hit.meta} if isinstance(hit, InnerHit) else hit for hit in section]
    total = {"value": section.total.value, "relation": section.total.relation}
    return {"hits": {"total": total, "max_score": section.max_score, "hits": hits}}


def _hit_key(name: str) -> Any:
    # A hit carries "_id", "_seq_no", ...; users write Meta(id=..., seq_no=...).
    return Field(default=None, validation_alias=AliasChoices(f"_{name}", name))


@dataclass(slots=True, config=ConfigDict(extra="ignore", populate_by_name=True))
class Meta:
    """Id, index, score, concurrency tokens, routing, highlight, inner hits and sort values.

    ``inner_hits`` maps each section's name to its :class:`InnerHits`.

    ``None`` means "not known": a ``seq_no`` of 0 is a real token and is kept. Meta is
    never part of ``_source``, the mapping, ``model_dump()`` or the JSON schema. It is a
    slotted pydantic dataclass: every hit carries one, so it is kept small (about 130
    bytes, a tenth of a model with a ``__dict__``).

    Example: ``Post(title="Hi", meta={"id": "p1", "routing": "ann"})``
    """

    id: str | None = _hit_key("id")
    index: str | None = _hit_key("index")
    score: float | None = _hit_key("score")
    version: int | None = _hit_key("version")
    seq_no: int | None = _hit_key("seq_no")
    primary_term: int | None = _hit_key("primary_term")
    routing: str | None = _hit_key("routing")
    highlight: dict[str, list[str]] | None = None
    inner_hits: dict[str, InnerHits] | None = None
    sort: list[Any] | None = None
    matched_queries: list[str] | dict[str, float] | None = None
    #: In a nested inner hit: the nested field and the offset of the object in it.
    nested: NestedIdentity | None = _hit_key("nested")
    #: Stored ``_source`` fields the model does not declare, written back by ``save()``.
    unknown_fields: dict[str, Any] | None = None
    #: The ``_source`` was read in part (``source=[...]``): ``save()`` would drop the rest.
    partial_source: bool = False
    #: The tenant whose scope read or wrote this document (a tenant-scoped class, docs/tenancy.md):
    #: its own ``save()``, ``update()`` and ``delete()`` then act in that scope. Set by code only.
    tenant: str | None = None


#: The Meta fields a hit carries (``_id``, ``highlight``, ...); the others are odm's own.
META_FIELDS: tuple[str, ...] = tuple(name for name in Meta.__dataclass_fields__ if name not in ("unknown_fields", "partial_source", "tenant"))
_ADAPTER: TypeAdapter[Meta] = TypeAdapter(Meta)


def hit_keys() -> list[tuple[str, str, Any]]:
    """``(key in a raw hit, Meta field, its annotation)``: ``("_id", "id", str | None)``, ..."""
    hints = get_type_hints(Meta)
    return [(f"_{name}" if name in _FROM_UNDERSCORED else name, name, hints[name]) for name in META_FIELDS]


def meta_from_hit(hit: Mapping[str, Any]) -> Meta:
    """Validate the meta keys of a raw hit (``_id``, ``_index``, ``highlight``, ...)."""
    return _ADAPTER.validate_python(hit)


_ELASTICSEARCH = object()

#: The validation context of data that Elasticsearch sent: only with it does validation
#: set ``meta`` or keep unknown stored fields. Outside data (``model_validate``, a FastAPI
#: body) cannot carry this object, so it cannot choose a document's id, index or routing.
FROM_ELASTICSEARCH: dict[str, object] = {"odm": _ELASTICSEARCH}


def from_elasticsearch(context: Any) -> bool:
    """Whether a validation ``context`` is :data:`FROM_ELASTICSEARCH`."""
    return isinstance(context, dict) and context.get("odm") is _ELASTICSEARCH


def meta_from_code(value: Meta | Mapping[str, Any]) -> Meta:
    """The ``meta`` that code gives a document (``meta={"id": "p1"}``), validated."""
    return value if isinstance(value, Meta) else _ADAPTER.validate_python(value)


def blank_meta() -> Meta:
    """A Meta with nothing known, built without validation: the default of every document.

    Plain attribute stores, written out: a loop of ``setattr`` costs five times as much,
    and this runs once per hit.
    """
    meta: Meta = object.__new__(Meta)
    meta.id = meta.index = meta.routing = None
    meta.score = None
    meta.version = meta.seq_no = meta.primary_term = None
    meta.highlight = meta.inner_hits = meta.sort = meta.matched_queries = meta.unknown_fields = None
    meta.nested = None
    meta.partial_source = False
    meta.tenant = None
    return meta


if TYPE_CHECKING:

    class MetaField:
        """How type checkers see ``AsyncDocument.meta`` (a descriptor, PEP 681 style)."""

        @overload
        def __get__(self, instance: None, owner: Any) -> MetaField: ...
        @overload
        def __get__(self, instance: object, owner: Any) -> Meta: ...
        def __get__(self, instance: object | None, owner: Any) -> Meta | MetaField: ...
        def __set__(self, instance: object, value: Meta | Mapping[str, Any]) -> None: ...
