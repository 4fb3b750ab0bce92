"""``AsyncSearch[T]``: elasticsearch.dsl's search builder, executed into typed models.

The whole chaining API (``query``, ``filter``, ``sort``, ``aggs``, ``highlight``,
slicing, ...) is elasticsearch.dsl's own ``SearchBase``; this class adds the async
terminal calls, which validate hits into the search's models (``doc_type``) in
pydantic-core. Without a model, hits are elasticsearch.dsl ``Hit`` attribute dicts,
as on the elasticsearch-dsl asyncio page.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Generic, cast, overload

from elasticsearch.dsl.response import Hit
from elasticsearch.dsl.search_base import SearchBase
from elasticsearch.helpers import async_scan
from pydantic import BaseModel
from typing_extensions import Self, TypeVar

from ._hit_classes import hit_classes
from ._hits import reader_for
from ._names import check_index_pattern
from ._raw_json import RawJson, accepts_raw_json, raw_json_responses
from .connections import UsingType, get_client
from .errors import NoIndexError, SearchStateError
from .response import Response

__all__ = ["AsyncSearch"]

T = TypeVar("T", default=Hit)

_PIT_PAGE_SIZE = 1000


class AsyncSearch(SearchBase[T], Generic[T]):
    """A search over one or more indices whose hits are validated into ``T``.

    Example::

        s = Post.search().query("match", title="python").sort("-views")[:20]
        async for post in s:  # post: Post, with post.meta.id / .score / .highlight
            ...
    """

    _using: UsingType

    @overload
    def __init__(
        self: AsyncSearch[Hit],
        using: UsingType = "default",
        index: str | Sequence[str] | None = None,
        doc_type: None = None,
        extra: dict[str, Any] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        using: UsingType = "default",
        index: str | Sequence[str] | None = None,
        doc_type: type[T] | Sequence[type[T]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None: ...
    def __init__(
        self,
        using: UsingType = "default",
        index: str | Sequence[str] | None = None,
        doc_type: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Build a search; nothing is sent until a terminal call.

        Args:
            using: connection alias or client.
            index: index names, patterns or aliases; all indices when omitted (``None``). An
                empty value (``""``, ``[]``, ``","``) is refused: it would widen to every index.
            doc_type: the model (or models) hits are validated into; a pydantic model or
                an ``AsyncDocument``. Several models are told apart by each hit's ``_index``
                and, where they share an index, by a ``Literal`` discriminator field.
            extra: raw body keys, as ``extra()`` takes them.

        Raises:
            InvalidIndexNameError: an empty or malformed index value.
            HitClassError: several models share an index without a discriminator.
        """
        if index is not None:
            index = check_index_pattern(index)
        super().__init__(using=using, index=index, doc_type=doc_type, extra=extra)
        models = self._models()
        if len(models) > 1:
            hit_classes(tuple(models))  # refuses ambiguous classes now, not at the first hit

    # -- reading hits ---------------------------------------------------------------

    def _models(self) -> list[type[BaseModel]]:
        return [d for d in self._doc_type if isinstance(d, type) and issubclass(d, BaseModel)]

    def _is_partial(self) -> bool:
        source = self._extra.get("_source", self._source)
        return source is not None and source is not True

    def _read_hits(self, hits: Sequence[Mapping[str, Any]]) -> list[T]:
        """Turn raw hits into ``T``: one pydantic-core call per page for a single model."""
        models = self._models()
        partial = self._is_partial()
        if not models:
            return [cast(T, Hit(dict(hit))) for hit in hits]
        if len(models) == 1:
            return cast(list[T], reader_for(models[0]).read_many(hits, partial))
        return [self._read_hit(hit, models, partial) for hit in hits]

    def _read_hit(
        self, hit: Mapping[str, Any], models: list[type[BaseModel]], partial: bool
    ) -> T:
        if not models:
            return cast(T, Hit(dict(hit)))
        model = hit_classes(tuple(models)).model_for(hit)
        return cast(T, reader_for(model).read(hit, partial))

    def _body(self) -> dict[str, Any]:
        """The request body; typed searches also ask for concurrency tokens, for ``if_unchanged``."""
        body = self.to_dict()
        if self._models():
            body.setdefault("seq_no_primary_term", True)
        return body

    def _index_param(self) -> list[str] | None:
        return check_index_pattern(self._index) if self._index else None

    # -- terminal calls -------------------------------------------------------------

    async def execute(self, ignore_cache: bool = False) -> Response[T]:
        """Send the search and return its response; cached until ``ignore_cache=True``.

        With one model and whole sources, the hits are validated straight from the
        response bytes (docs/performance.md): in ``response.body``, each hit's
        ``_source`` is then its model, never built as a dict.

        Raises:
            HitValidationError: a hit's ``_source`` does not validate as its model.
        """
        cached: Response[T] | None = getattr(self, "_odm_response", None)
        if cached is not None and not ignore_cache:
            return cached
        client = get_client(self._using)
        models = self._models()
        # One model and whole sources: validate straight from the response bytes.
        from_bytes = len(models) == 1 and not self._is_partial() and accepts_raw_json(client)
        with raw_json_responses() if from_bytes else contextlib.nullcontext():
            raw = await client.search(index=self._index_param(), body=self._body(), **self._params)
        if isinstance(raw.body, RawJson):
            body, models_read = reader_for(models[0]).read_response(raw.body)
            hits = cast(list[T], models_read)
        else:
            body = raw.body
            hits = self._read_hits(body["hits"]["hits"])
        response = Response(self, body, hits)
        self._odm_response = response
        return response

    def __aiter__(self) -> AsyncIterator[T]:
        """Iterate the hits of one request (``size`` of them, 10 by default)."""
        return self._iterate_page()

    async def _iterate_page(self) -> AsyncIterator[T]:
        for hit in await self.execute():
            yield hit

    async def count(self) -> int:
        """The number of matching documents (exact), from the cached response when it has it."""
        cached: Response[T] | None = getattr(self, "_odm_response", None)
        if cached is not None and cached.hits.total.relation == "eq":
            return cached.hits.total.value
        client = get_client(self._using)
        query = self.to_dict(count=True).get("query")
        response = await client.count(index=self._index_param(), query=query, **self._params)
        return int(response["count"])

    async def scan(self) -> AsyncIterator[T]:
        """Every matching hit, through the scroll API (``params()`` go to ``async_scan``).

        Prefer :meth:`iterate`, which uses a point in time and ``search_after``.
        """
        client = get_client(self._using)
        models, partial = self._models(), self._is_partial()
        async for hit in async_scan(client, query=self._body(), index=self._index_param(), **self._params):
            yield self._read_hit(hit, models, partial)

    @contextlib.asynccontextmanager
    async def point_in_time(self, keep_alive: str = "1m") -> AsyncIterator[Self]:
        """Open a point in time and yield this search bound to it; it is closed on exit."""
        client = get_client(self._using)
        pit = await client.open_point_in_time(index=self._index_param() or "_all", keep_alive=keep_alive)
        search = self.index().extra(pit={"id": pit["id"], "keep_alive": keep_alive})
        if not search._sort:
            search = search.sort("_shard_doc")
        try:
            yield search
        finally:
            await client.close_point_in_time(id=pit["id"])

    async def iterate(self, keep_alive: str = "1m") -> AsyncIterator[T]:
        """Every matching hit, consistently, via a point in time and ``search_after``.

        Pages are of ``size`` hits when the search sets one, else 1,000.
        """
        async with self.point_in_time(keep_alive=keep_alive) as search:
            if "size" not in search._extra:
                search = search.extra(size=_PIT_PAGE_SIZE)
            while True:
                response = await search.execute()
                for hit in response:
                    yield hit
                if not response.hits:
                    break
                search = search.search_after()

    def search_after(self) -> Self:
        """The next page after the executed one, by the last hit's sort values.

        Raises:
            ValueError: the search was not executed yet, or its last page was empty.
        """
        response: Response[T] | None = getattr(self, "_odm_response", None)
        if response is None:
            raise SearchStateError("a search must be executed before search_after()")
        hits = response.body["hits"]["hits"]
        if not hits or "sort" not in hits[-1]:
            raise SearchStateError("search_after() needs a sorted search whose last page has hits")
        search = self.extra(search_after=hits[-1]["sort"])
        if response.pit_id is not None and "pit" in search._extra:
            search._extra["pit"] = {**search._extra["pit"], "id": response.pit_id}
        return search

    async def delete(self) -> dict[str, Any]:
        """Delete every matching document (``delete_by_query``; needs the ``reindex`` module).

        Raises:
            NoIndexError: the search names no index; it never deletes across every index.
        """
        index = self._index_param()
        if not index:
            raise NoIndexError("delete() needs an index: a delete by query never runs over every index")
        client = get_client(self._using)
        response = await client.delete_by_query(index=index, body=self.to_dict(), **self._params)
        return dict(response.body)

