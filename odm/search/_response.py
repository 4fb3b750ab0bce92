"""``Response[T]``: a search response whose hits are typed objects, not attribute dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from elasticsearch.dsl.response import AggResponse
from elasticsearch.dsl.utils import AttrDict

from .._core.hit_classes import search_models
from .._core.hits import InvalidHit, InvalidPolicy, invalid_list, settle
from .._core.top_hits import with_top_hits_read
from ..aggs import Aggs
from ..errors import SearchStateError
from ..meta import Total, total_of

if TYPE_CHECKING:
    from elasticsearch.dsl.search_base import SearchBase

    from ._search import AsyncSearch

__all__ = ["Hits", "Response", "Total"]

T = TypeVar("T")
AggsT = TypeVar("AggsT", bound=Aggs)


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
    Elasticsearch, for anything not exposed here. ``invalid_hits`` lists the hits left
    out because they do not validate, when the search collects them
    (``on_invalid("collect")``); ``hits.total`` is Elasticsearch's count, which includes them.
    Top hits that do not validate join it when :meth:`aggs` or :attr:`aggregations` reads them.
    """

    def __init__(
        self,
        search: SearchBase[Any],
        body: Mapping[str, Any],
        hits: list[T],
        invalid_hits: list[InvalidHit] | None = None,
        on_invalid: InvalidPolicy = "raise",
    ) -> None:
        self.search = search
        self.body = body
        self._on_invalid: InvalidPolicy = on_invalid
        self._typed_aggs: dict[type[Aggs], Aggs] = {}
        self._aggregations: AggResponse[Any] | None = None
        raw_hits = body.get("hits", {})
        sent = raw_hits.get("hits")
        # Without a total (track_total_hits=false): the hits Elasticsearch sent, valid or not.
        count = total_of(raw_hits, len(sent) if isinstance(sent, list) else len(hits))
        self.hits: Hits[T] = Hits(hits, count, raw_hits.get("max_score"))
        self.invalid_hits: list[InvalidHit] = invalid_hits if invalid_hits is not None else []

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
        """Aggregation results, wrapped by elasticsearch.dsl: ``response.aggregations.tags.buckets``.

        On a typed search, the hits of a ``top_hits`` aggregation at any depth
        (``bucket.top.hits``) are read as its documents, as ``response.hits`` are: with
        ``meta``, partial when the aggregation filters ``_source``; inside a ``nested``
        aggregation, each is an :class:`~odm.InnerHit` of the nested field's model. Read
        once, at the first access: a top hit that does not validate is then handled by the
        search's ``on_invalid`` policy (raised here, or left out and logged or collected in
        :attr:`invalid_hits`). Buckets keep elasticsearch.dsl's wrappers.

        Raises:
            HitValidationError: a top hit does not validate (with ``on_invalid("raise")``).
        """
        if self._aggregations is None:
            results = dict(self.body.get("aggregations", {}))
            models = search_models(self.search._doc_type)
            if models and results:
                invalid = invalid_list(self._on_invalid)
                results = with_top_hits_read(self.search.to_dict().get("aggs", {}), results, models, invalid)
                self.invalid_hits.extend(settle(self._on_invalid, invalid))
            self._aggregations = AggResponse(cast(Any, self.search.aggs), self.search, results)
        return self._aggregations

    def aggs(self, aggregations: type[AggsT]) -> AggsT:
        """The aggregations declared by ``aggregations`` (added by ``s.aggregate(...)``), typed.

        Read once per class and kept. A top hit that does not validate is handled by the
        search's ``on_invalid`` policy, as hits are: raised, or left out of its bucket's
        list and logged (``"skip"``) or added to :attr:`invalid_hits` (``"collect"``).
        Example: ``facets = response.aggs(Facets)``; ``facets.colors.buckets[0].key``.

        Raises:
            AggregationResultError: one of them is missing from the response or not of its shape.
            HitValidationError: a top hit does not validate (with ``on_invalid("raise")``).
        """
        found = self._typed_aggs.get(aggregations)
        if found is None:
            invalid = invalid_list(self._on_invalid)
            found = aggregations.from_aggregations(self.body.get("aggregations"), invalid)
            self.invalid_hits.extend(settle(self._on_invalid, invalid))
            self._typed_aggs[aggregations] = found
        return cast(AggsT, found)

    @property
    def suggest(self) -> AttrDict[Any]:
        """Suggester results by name: ``response.suggest.title_fix[0].options``."""
        return AttrDict(dict(self.body.get("suggest", {})))

    @property
    def pit_id(self) -> str | None:
        """The point-in-time id to pass to the next page, when searching in one."""
        value = self.body.get("pit_id")
        return str(value) if value is not None else None

    def search_after(self) -> AsyncSearch[T]:
        """The search for the next page: this response's search after its last hit's sort values.

        Example::

            response = await Post.search().sort("created_at", "_id")[:20].execute()
            next_page = await response.search_after().execute()

        In a point in time, the next page also carries the newest ``pit_id``.

        Raises:
            SearchStateError: the response has no hits, or its search is not sorted.
        """
        hits = self.body.get("hits", {}).get("hits") or []
        if not hits:
            raise SearchStateError("search_after() needs a response with hits: this page is empty (the last one)")
        if "sort" not in hits[-1]:
            raise SearchStateError("search_after() needs a sorted search: sort() it, e.g. by a date and _id")
        search = self.search.extra(search_after=hits[-1]["sort"])
        if self.pit_id is not None and "pit" in search._extra:
            search._extra["pit"] = {**search._extra["pit"], "id": self.pit_id}
        return cast("AsyncSearch[T]", search)

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
