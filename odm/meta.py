"""``Meta``: what Elasticsearch knows about a document that is not in its ``_source``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = ["Meta"]


def _hit_key(name: str) -> Any:
    # A hit carries "_id", "_seq_no", ...; users write Meta(id=..., seq_no=...).
    return Field(default=None, validation_alias=AliasChoices(f"_{name}", name))


class Meta(BaseModel):
    """Id, index, score, concurrency tokens, routing, highlight, inner hits and sort values.

    ``None`` means "not known": a ``seq_no`` of 0 is a real token and is kept. Meta is
    never part of ``_source``, the mapping, ``model_dump()`` or the JSON schema.

    Example: ``Post(title="Hi", meta={"id": "p1", "routing": "ann"})``
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

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


if TYPE_CHECKING:

    class MetaField:
        """How type checkers see ``AsyncDocument.meta`` (a descriptor, PEP 681 style)."""

        @overload
        def __get__(self, instance: None, owner: Any) -> MetaField: ...
        @overload
        def __get__(self, instance: object, owner: Any) -> Meta: ...
        def __get__(self, instance: object | None, owner: Any) -> Meta | MetaField: ...
        def __set__(self, instance: object, value: Meta | Mapping[str, Any]) -> None: ...
