"""``Response[T]``: a search response whose hits are typed objects, not attribute dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast, overload

from elasticsearch.dsl.response import AggResponse
from elasticsearch.dsl.utils import AttrDict

if TYPE_CHECKING:
    from elasticsearch.dsl.search_base import SearchBase

__all__ = ["Hits", "Response", "Total"]

T = TypeVar("T")


class Total(NamedTuple):
    """``hits.total``: ``relation`` is ``"eq"`` for an exact count, ``"gte"`` for a lower bound."""

    value: int
    relation: str


class Hits(list[T]):
    """The hits of one response, in order, with ``total`` and ``max_score``."""

    total: Total
    max_score: float | None

    def __init__(self, hits: list[T], total: Total, max_score: float | None) -> None:
        super().__init__(hits)
        self.total = total
        self.max_score = max_score


class Response(Generic[T]):
    """One search response: ``hits`` (validated models), ``aggregations``, ``suggest``, ``took``.

    Iterating a response iterates its hits. ``body`` is the raw response as sent by
    Elasticsearch, for anything not exposed here.
    """

    def __init__(self, search: SearchBase[Any], body: Mapping[str, Any], hits: list[T]) -> None:
        self.search = search
        self.body = body
        raw_hits = body.get("hits", {})
        total = raw_hits.get("total")
        if isinstance(total, Mapping):
            count = Total(total["value"], total["relation"])
        else:  # rest_total_hits_as_int, or no total tracked
            count = Total(total if isinstance(total, int) else len(hits), "eq")
        self.hits: Hits[T] = Hits(hits, count, raw_hits.get("max_score"))

    @property
    def took(self) -> int:
        """Milliseconds Elasticsearch spent on the search."""
        return int(self.body.get("took", 0))

    @property
    def timed_out(self) -> bool:
        """Whether the search hit its timeout and returned partial results."""
        return bool(self.body.get("timed_out", False))

    @property
    def shards(self) -> dict[str, Any]:
        """The ``_shards`` section: total, successful, skipped, failed."""
        return dict(self.body.get("_shards", {}))

    @property
    def aggregations(self) -> AggResponse[Any]:
        """Aggregation results, wrapped by elasticsearch.dsl: ``response.aggregations.tags.buckets``."""
        return AggResponse(cast(Any, self.search.aggs), self.search, dict(self.body.get("aggregations", {})))

    @property
    def suggest(self) -> AttrDict[Any]:
        """Suggester results by name: ``response.suggest.title_fix[0].options``."""
        return AttrDict(dict(self.body.get("suggest", {})))

    @property
    def pit_id(self) -> str | None:
        """The point-in-time id to pass to the next page, when searching in one."""
        value = self.body.get("pit_id")
        return str(value) if value is not None else None

    def success(self) -> bool:
        """True when every shard answered and the search did not time out."""
        shards = self.body.get("_shards", {})
        return not self.timed_out and shards.get("total") == shards.get("successful")

    def __iter__(self) -> Iterator[T]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @overload
    def __getitem__(self, key: int) -> T: ...
    @overload
    def __getitem__(self, key: slice) -> list[T]: ...
    def __getitem__(self, key: int | slice) -> T | list[T]:
        return self.hits[key]

    def __repr__(self) -> str:
        return f"<Response: {len(self.hits)} of {self.hits.total.value} hits>"
