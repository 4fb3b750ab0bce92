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
from typing import TYPE_CHECKING, Any, Generic, cast, overload

from elasticsearch.dsl.response import Hit
from elasticsearch.dsl.search_base import SearchBase
from pydantic import BaseModel
from typing_extensions import Self, TypeVar

from .._core.hit_classes import hit_classes, search_models
from .._core.hits import (
    NO_RULES,
    InnerHitRules,
    InvalidHit,
    InvalidPolicy,
    inner_hit_rules,
    invalid_list,
    reader_for,
    settle,
)
from .._core.names import check_index_pattern
from .._core.retry import RetryPolicy
from .._core.raw_json import RawJson, accepts_raw_json, raw_json_responses
from .._core.top_hits import asking_for_documents
from .._core.tenancy import TenantView, mark, scoped_body
from .._core.vectors import inner_hits_with_vectors, is_whole_source, reads_vectors, with_vectors
from ..aggs import Aggs
from ..aggs._pages import add_aggregations, composite_of, with_after
from .._sending import checked_policy, close_context, send, send_not_idempotent
from ..connections import UsingType, get_client
from ..errors import ArgumentError, NoIndexError, SearchStateError
from ..meta import InnerHit
from ._response import Response
from ._scroll import scroll_hits

if TYPE_CHECKING:
    from ..aggs._tree import AggsTree

__all__ = ["AsyncSearch"]

T = TypeVar("T", default=Hit)
AggsT = TypeVar("AggsT", bound=Aggs)

_PIT_PAGE_SIZE = 1000
_POLICIES = ("raise", "skip", "collect")
# Search parameters (params()) that filter _source, and ones that make Elasticsearch send
# one other than the stored (rebuilt from doc values, or without its vectors).
_SOURCE_PARAMS = ("source_includes", "_source_includes", "source_excludes", "_source_excludes")
_REBUILT_SOURCE_PARAMS = ("force_synthetic_source", "source_exclude_vectors", "_source_exclude_vectors")


def _collapse_members_as_documents(collapse: Any, vectors: bool) -> Any:
    """A copy of ``collapse`` whose ``inner_hits`` ask for what a loaded document needs.

    Collapse members are documents of the searched class, and one may be saved back: its
    concurrency tokens (without them Elasticsearch sends ``_seq_no: -2``, and the save
    would overwrite any newer version) and, when the class ``reads_vectors``, its vectors.
    """

    def ask(definition: Any) -> Any:
        if not isinstance(definition, Mapping):
            return definition
        asked = {"seq_no_primary_term": True, **definition}
        return inner_hits_with_vectors(asked) if vectors else asked

    wanted = collapse.get("inner_hits") if isinstance(collapse, Mapping) else None
    if isinstance(wanted, (Mapping, list)):
        return {**collapse, "inner_hits": [ask(d) for d in wanted] if isinstance(wanted, list) else ask(wanted)}
    return collapse


class AsyncSearch(SearchBase[T], Generic[T]):
    """A search over one or more indices whose hits are validated into ``T``.

    Example::

        s = Post.search().query("match", title="python").sort("-views")[:20]
        async for post in s:  # post: Post, with post.meta.id / .score / .highlight
            ...
    """

    _using: UsingType
    _on_invalid: InvalidPolicy = "raise"
    #: The tenant this search is limited to (a tenant-scoped class's search needs one: docs/tenancy.md).
    _odm_tenancy: TenantView | None = None
    _retry: RetryPolicy | None = None
    if TYPE_CHECKING:
        aggs: AggsTree[T]  # so that s.aggs["a"]["b"].metric(...) type-checks (see aggs/_tree.py)

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
        return search_models(self._doc_type)

    def _get_result(self, hit: Any, parent_class: type | None = None) -> T:
        # elasticsearch.dsl builds top hits (bucket.top.hits) through here; on a typed
        # search, Response.aggregations has read them already (documents, InnerHit).
        if isinstance(hit, (BaseModel, InnerHit)):
            return cast(T, hit)
        return super()._get_result(hit, parent_class)

    def _is_partial(self) -> bool:
        """Whether hits come with less than, or other than, the stored ``_source``: a filter
        in the body, or a ``params()`` one (a model of what came back is then partial)."""
        if any(self._params.get(key) not in (None, True) for key in _SOURCE_PARAMS):
            return True
        if any(self._params.get(key) for key in _REBUILT_SOURCE_PARAMS):
            return True
        return not is_whole_source(self._extra.get("_source", self._source))

    def _read_hits(
        self,
        hits: Sequence[Mapping[str, Any]],
        rules: InnerHitRules = NO_RULES,
        invalid: list[InvalidHit] | None = None,
    ) -> list[T]:
        """Turn raw hits into ``T``: one pydantic-core call per page for a single model.

        With an ``invalid`` list, hits that do not validate are left out and reported there.
        """
        models = self._models()
        partial = self._is_partial()
        if not models:
            return [cast(T, Hit(dict(hit))) for hit in hits]
        if len(models) == 1:
            return cast(list[T], reader_for(models[0]).read_many(hits, partial, rules, invalid))
        read = (self._read_hit(hit, models, partial, rules, invalid) for hit in hits)
        return [hit for hit in read if hit is not None]

    def _read_hit(
        self,
        hit: Mapping[str, Any],
        models: list[type[BaseModel]],
        partial: bool,
        rules: InnerHitRules,
        invalid: list[InvalidHit] | None,
    ) -> T | None:
        if not models:
            return cast(T, Hit(dict(hit)))
        model = hit_classes(tuple(models)).model_for(hit)
        return cast("T | None", reader_for(model).read_or_report(hit, partial, rules, invalid))

    def _response_of(self, body: Mapping[str, Any]) -> Response[T]:
        """The response to this search from its decoded body (a multi search's item), read by its policy."""
        invalid = self._invalid_list()
        hits = self._read_hits(body["hits"]["hits"], inner_hit_rules(self._body(), self._models()), invalid)
        return Response(self, body, self._marked(hits), self._settle(invalid), self._on_invalid)

    # -- hits that do not validate ------------------------------------------------------

    def retry(self, policy: RetryPolicy) -> Self:
        """A copy of this search whose requests odm re-sends under ``policy`` (else the connection's).

        Every request of the search's terminal calls: ``execute()``, ``count()``, the pages
        of ``iterate()`` and its point in time, ``scan()`` (whose scroll pages are re-sent
        only after an answer that refused them) and ``delete()`` (never re-sent after a lost
        answer). Example: ``Post.search().retry(RetryPolicy(max_retries=8)).execute()``;
        ``retry(NO_RETRIES)`` sends each request once.

        Raises:
            ArgumentError: not a ``RetryPolicy``.
        """
        checked = checked_policy(policy, "retry()")
        search = self._clone()
        search._retry = checked
        return search

    def on_invalid(self, policy: InvalidPolicy) -> Self:
        """A copy of this search that raises for, skips or collects hits that do not validate.

        ``"raise"`` (the default): ``HitValidationError``, naming the index, id and fields.
        ``"skip"``: the hit is left out of ``response.hits`` and logged as a WARNING on the
        ``odm`` logger with its index, id and errors; ``hits.total`` stays Elasticsearch's
        count. ``"collect"``: left out too, and listed on ``response.invalid_hits`` (and,
        after ``scan()``/``iterate()``, on :attr:`invalid_hits`).

        Raises:
            ArgumentError: another policy.
        """
        if policy not in _POLICIES:
            raise ArgumentError(f"on_invalid() takes one of {', '.join(map(repr, _POLICIES))}, not {policy!r}")
        search = self._clone()
        search._on_invalid = policy
        return search

    @property
    def invalid_hits(self) -> list[InvalidHit]:
        """With ``on_invalid("collect")``: the invalid hits met by the latest ``execute()``,
        ``async for``, ``scan()``, ``iterate()`` or ``composite_pages()`` of this search object
        (reset when one starts; top hits included once read with ``response.aggs(cls)``)."""
        found: list[InvalidHit] = getattr(self, "_odm_invalid", [])
        return found

    def _invalid_list(self) -> list[InvalidHit] | None:
        """Where a read reports invalid hits: ``None`` raises them."""
        return invalid_list(self._on_invalid)

    def _settle(self, invalid: list[InvalidHit] | None) -> list[InvalidHit]:
        """The invalid hits a response keeps: logged and dropped when skipped, kept when collected."""
        return settle(self._on_invalid, invalid)

    def _clone(self) -> Self:
        search = super()._clone()
        search._on_invalid = self._on_invalid
        search._odm_tenancy = self._odm_tenancy
        search._retry = self._retry
        return search

    def to_dict(self, count: bool = False, **kwargs: Any) -> dict[str, Any]:
        """The request body; a tenant scope's search is limited to its tenant here, so every
        request it sends (search, count, scan, delete by query, multi search) carries the filter.

        Raises:
            UnscopedAccessError: the search is of a tenant-scoped class and has no scope.
        """
        return scoped_body(self._models(), self._odm_tenancy, super().to_dict(count=count, **kwargs), self._params)

    def _marked(self, hits: list[T]) -> list[T]:
        """Hits read through a tenant scope carry their tenant (``meta.tenant``): their own writes act in it."""
        view = self._odm_tenancy
        if view is not None and view.tenant is not None:
            for hit in hits:
                if isinstance(hit, BaseModel) and hasattr(hit, "meta"):
                    mark(hit, view)
        return hits

    def _body(self) -> dict[str, Any]:
        """The request body; typed searches also ask for concurrency tokens, for ``if_unchanged``,
        and for vectors, which Elasticsearch 9 leaves out of ``_source`` (``_vectors``), for
        their hits, collapse members and top hits."""
        body = self.to_dict()
        models = self._models()
        if models:
            body.setdefault("seq_no_primary_term", True)
            vectors = any(reads_vectors(model) for model in models)
            if vectors:
                body["_source"] = with_vectors(body.get("_source"))
            if "collapse" in body:  # collapse members are documents too
                body["collapse"] = _collapse_members_as_documents(body["collapse"], vectors)
            if "aggs" in body:  # and so are top hits
                body["aggs"] = asking_for_documents(body["aggs"], models)
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
            HitValidationError: a hit's ``_source`` does not validate as its model (unless
                the search skips or collects such hits: :meth:`on_invalid`).
        """
        cached: Response[T] | None = getattr(self, "_odm_response", None)
        if cached is not None and not ignore_cache:
            return cached
        client = get_client(self._using)
        models = self._models()
        request = self._body()
        rules, invalid = inner_hit_rules(request, models), self._invalid_list()
        # One model and whole sources: validate straight from the response bytes.
        from_bytes = len(models) == 1 and not self._is_partial() and accepts_raw_json(client)
        with raw_json_responses() if from_bytes else contextlib.nullcontext():
            index = self._index_param()
            raw = await send(client, lambda quiet: quiet.search(index=index, body=request, **self._params), self._retry)
        if isinstance(raw.body, RawJson):
            body, models_read = reader_for(models[0]).read_response(raw.body, rules, invalid)
            hits = cast(list[T], models_read)
        else:
            body = raw.body
            hits = self._read_hits(body["hits"]["hits"], rules, invalid)
        response = Response(self, body, self._marked(hits), self._settle(invalid), self._on_invalid)
        self._odm_response = response
        self._odm_invalid = response.invalid_hits
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
        index = self._index_param()
        response = await send(client, lambda quiet: quiet.count(index=index, query=query, **self._params), self._retry)
        return int(response["count"])

    async def scan(self) -> AsyncIterator[T]:
        """Every matching hit, through the scroll API (``params()`` take ``async_scan``'s options).

        Prefer :meth:`iterate`, which uses a point in time and ``search_after``. Hits that
        do not validate are raised, skipped or collected (:attr:`invalid_hits`) as
        :meth:`on_invalid` says. odm sends the requests under its retry policy; a scroll
        page moves the scroll on, so it is re-sent only after an answer that refused it
        (429, 503), never after a lost answer (docs/reliability.md).

        Raises:
            ScrollLostError: a scroll page got no answer: its hits may be past; nothing was skipped silently.
        """
        client = get_client(self._using)
        models, partial, request = self._models(), self._is_partial(), self._body()
        rules = inner_hit_rules(request, models)
        self._odm_invalid = collected = []
        async for raw in scroll_hits(client, request, self._index_param(), self._retry, self._params):
            invalid = self._invalid_list()
            hit = self._read_hit(raw, models, partial, rules, invalid)
            collected.extend(self._settle(invalid))
            if hit is not None:
                yield self._marked([hit])[0]

    @contextlib.asynccontextmanager
    async def point_in_time(self, keep_alive: str = "1m") -> AsyncIterator[Self]:
        """Open a point in time and yield this search bound to it; it is closed on exit.

        The open, the pages and the close are sent under odm's retry policy. A re-sent open
        whose first answer was lost may leave that point in time open until ``keep_alive``
        ends; a close that finds it gone (its own earlier attempt) has closed it.
        """
        client = get_client(self._using)
        index = self._index_param() or "_all"
        pit = await send(client, lambda quiet: quiet.open_point_in_time(index=index, keep_alive=keep_alive), self._retry)
        search = self.index().extra(pit={"id": pit["id"], "keep_alive": keep_alive})
        if not search._sort:
            search = search.sort("_shard_doc")
        try:
            yield search
        finally:
            await close_context(client, lambda quiet: quiet.close_point_in_time(id=pit["id"]), self._retry)

    async def iterate(self, keep_alive: str = "1m") -> AsyncIterator[T]:
        """Every matching hit, consistently, via a point in time and ``search_after``.

        Pages are of ``size`` hits when the search sets one, else 1,000. Hits that do not
        validate are raised, skipped or collected (:attr:`invalid_hits`) as
        :meth:`on_invalid` says; a page of invalid hits only does not end the iteration.
        """
        self._odm_invalid = collected = []
        async with self.point_in_time(keep_alive=keep_alive) as search:
            if "size" not in search._extra:
                search = search.extra(size=_PIT_PAGE_SIZE)
            while True:
                response = await search.execute()
                collected.extend(response.invalid_hits)
                for hit in response:
                    yield hit
                if not response.body.get("hits", {}).get("hits"):
                    break
                search = response.search_after()

    def search_after(self) -> Self:
        """The next page after the executed one, by the last hit's sort values
        (:meth:`Response.search_after <odm.Response.search_after>`, on the cached response).

        Raises:
            SearchStateError: the search was not executed yet, is not sorted, or its
                last page was empty.
        """
        response: Response[T] | None = getattr(self, "_odm_response", None)
        if response is None:
            raise SearchStateError("a search must be executed before search_after()")
        return cast(Self, response.search_after())

    # -- typed aggregations (docs/aggregations.md) -----------------------------------

    def aggregate(self, aggregations: type[Aggs]) -> Self:
        """A copy of this search that also asks for the aggregations ``aggregations`` declares.

        Read them with ``response.aggs(aggregations)``. Example::

            response = await Product.search().aggregate(Facets).execute()
            facets = response.aggs(Facets)

        Raises:
            ArgumentError: not an ``Aggs`` class, or the search already has one of its names.
        """
        return add_aggregations(self, aggregations)

    async def composite_pages(self, aggregations: type[AggsT]) -> AsyncIterator[AggsT]:
        """Every page of the one ``Composite`` aggregation ``aggregations`` declares, in order.

        Each page is a request; the next asks for the buckets after the last page's
        ``after_key``, as Elasticsearch gave it. The search asks for no hits unless it
        sets a size. The first page is always yielded, later ones while they have buckets.
        Top hits that do not validate are handled by :meth:`on_invalid`; collected ones
        are on :attr:`invalid_hits` afterwards.

        Raises:
            ArgumentError: the class declares no ``Composite`` aggregation, or several.
        """
        name, composite = composite_of(aggregations)
        search = self.aggregate(aggregations)
        if "size" not in search._extra:
            search = search.extra(size=0)
        self._odm_invalid = collected = []
        first = True
        while True:
            response = await search.execute()
            page = response.aggs(aggregations)
            collected.extend(response.invalid_hits)  # hits and top hits, with on_invalid("collect")
            raw = response.body["aggregations"][name]
            if not first and not raw["buckets"]:
                return
            yield page
            first = False
            after = raw.get("after_key")
            if after is None or not raw["buckets"]:
                return
            search = with_after(search, name, composite, after)

    async def delete(self) -> dict[str, Any]:
        """Delete every matching document (``delete_by_query``; needs the ``reindex`` module).

        Sent again only after an answer that refused it (429, 503), never after a lost
        answer: the delete may have run (docs/reliability.md).

        Raises:
            NoIndexError: the search names no index; it never deletes across every index.
            OutcomeUnknownError: the answer was lost (``operation="delete_by_query"``): it may
                have run, in part or whole, or be running still; odm did not send it again.
        """
        index = self._index_param()
        if not index:
            raise NoIndexError("delete() needs an index: a delete by query never runs over every index")
        client = get_client(self._using)
        body = self.to_dict()
        response = await send_not_idempotent(
            client, lambda quiet: quiet.delete_by_query(index=index, body=body, **self._params), self._retry, index,
            "delete_by_query",
        )
        return dict(response.body)

