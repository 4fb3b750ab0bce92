"""``Meta``: what Elasticsearch knows about a document that is not in its ``_source``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_type_hints, overload

from pydantic import AliasChoices, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

__all__ = ["Meta"]


_FROM_UNDERSCORED = ("id", "index", "score", "version", "seq_no", "primary_term", "routing")


def _hit_key(name: str) -> Any:
    # A hit carries "_id", "_seq_no", ...; users write Meta(id=..., seq_no=...).
    return Field(default=None, validation_alias=AliasChoices(f"_{name}", name))


@dataclass(slots=True, config=ConfigDict(extra="ignore", populate_by_name=True))
class Meta:
    """Id, index, score, concurrency tokens, routing, highlight, inner hits and sort values.

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
    inner_hits: dict[str, Any] | None = None
    sort: list[Any] | None = None
    matched_queries: list[str] | dict[str, float] | None = None
    #: Stored ``_source`` fields the model does not declare, written back by ``save()``.
    unknown_fields: dict[str, Any] | None = None
    #: The ``_source`` was read in part (``source=[...]``): ``save()`` would drop the rest.
    partial_source: bool = False


#: The Meta fields a hit carries (``_id``, ``highlight``, ...); the others are odm's own.
META_FIELDS: tuple[str, ...] = tuple(name for name in Meta.__dataclass_fields__ if name not in ("unknown_fields", "partial_source"))
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
    meta.partial_source = False
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
