"""``AsyncMultiSearch[T]``: several typed searches sent in one ``_msearch`` request.

The request body is elasticsearch.dsl's ``MultiSearchBase``; each response is read
by its own search (``AsyncSearch._read_hits``), so each keeps its models and its
partial-source rules. A failed search surfaces as the client's own exception type
(``NotFoundError``, ``BadRequestError``, ...), raised, or listed in its place.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, cast, overload

from elastic_transport import ApiResponseMeta
from elasticsearch import ApiError
from elasticsearch.dsl.response import Hit
from elasticsearch.dsl.search_base import MultiSearchBase
from elasticsearch.exceptions import HTTP_EXCEPTIONS
from typing_extensions import Self, TypeVar

from .._core.names import check_index_pattern
from .._core.retry import RetryPolicy
from .._sending import checked_policy, send
from ..connections import UsingType, get_client
from ..errors import ArgumentError
from ._response import Response
from ._search import AsyncSearch

__all__ = ["AsyncMultiSearch"]

T = TypeVar("T", default=Hit)
U = TypeVar("U")


class AsyncMultiSearch(MultiSearchBase[T], Generic[T]):
    """Searches sent together; ``execute()`` returns one ``Response`` per search, in order.

    ``T`` is the union of the searches' hit types: ``AsyncMultiSearch[Post]()`` for one
    model; ``add()`` widens it (``AsyncMultiSearch[Post]().add(Comment.search())`` is an
    ``AsyncMultiSearch[Post | Comment]``). An untyped ``AsyncMultiSearch()`` holds
    untyped searches (``Hit``), as on the elasticsearch-dsl page.

    Example::

        ms = AsyncMultiSearch[Post]()
        ms = ms.add(Post.search().filter("term", tags="python"))
        ms = ms.add(Post.search().filter("term", tags="search"))
        python, search = await ms.execute()  # Response[Post] each
    """

    _using: UsingType
    _searches: list[AsyncSearch[T]]  # type: ignore[assignment]  # add() accepts odm searches only
    _retry: RetryPolicy | None = None

    def __init__(self, using: UsingType = "default", index: str | Sequence[str] | None = None) -> None:
        """Start an empty multi search.

        Args:
            using: connection alias or client; the searches' own ``using`` is not used.
            index: the default index (names, patterns or aliases) of searches that set none.
        """
        if isinstance(index, Sequence) and not isinstance(index, str):
            index = list(index)
        super().__init__(using=using, index=index)
        self._odm_results: list[Response[T] | ApiError] | None = None

    def _clone(self) -> Self:
        # Request._clone() would pass doc_type=, which a multi search has no use for.
        copy = type(self)(using=self._using, index=self._index)
        copy._params = self._params.copy()
        copy._searches = self._searches[:]
        copy._retry = self._retry
        return copy

    def retry(self, policy: RetryPolicy) -> Self:
        """A copy whose ``_msearch`` request odm re-sends under ``policy`` (else the connection's).

        The multi search is one request: its policy is this one, whatever the added
        searches' own ``retry()`` says (as their ``using`` is not used either). A re-send
        reads again. Example: ``AsyncMultiSearch[Post]().add(s).retry(NO_RETRIES)`` sends it once.

        Raises:
            ArgumentError: not a ``RetryPolicy``.
        """
        checked = checked_policy(policy, "retry()")
        copy = self._clone()
        copy._retry = checked
        return copy

    def add(self, search: AsyncSearch[U]) -> AsyncMultiSearch[T | U]:  # type: ignore[override]
        """A copy with ``search`` appended; its ``index`` and ``params()`` go in its header line.

        Raises:
            ArgumentError: ``search`` is not an ``odm.AsyncSearch`` (e.g. an elasticsearch.dsl one).
        """
        if not isinstance(search, AsyncSearch):
            raise ArgumentError(
                f"AsyncMultiSearch.add() takes an odm.AsyncSearch (Post.search(), AsyncSearch()), "
                f"not {type(search).__module__}.{type(search).__qualname__}"
            )
        combined = self._clone()
        # The list holds searches of T and U from here on: the copy is typed as such.
        combined._searches.append(cast("AsyncSearch[T]", search))
        return cast("AsyncMultiSearch[T | U]", combined)

    def to_dict(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """Header and body lines; each body is its search's own (typed searches ask for seq_no)."""
        lines = super().to_dict()
        for position, search in enumerate(self._searches):
            lines[2 * position + 1] = search._body()
        return lines

    @overload
    async def execute(self, ignore_cache: bool = False, raise_on_error: Literal[True] = True) -> list[Response[T]]: ...
    @overload
    async def execute(self, ignore_cache: bool, raise_on_error: bool) -> list[Response[T] | ApiError]: ...
    @overload
    async def execute(self, ignore_cache: bool = False, *, raise_on_error: bool) -> list[Response[T] | ApiError]: ...
    async def execute(
        self, ignore_cache: bool = False, raise_on_error: bool = True
    ) -> list[Response[T]] | list[Response[T] | ApiError]:
        """Send every search in one request; the results are cached until ``ignore_cache=True``.

        With no search added, nothing is sent and the list is empty.

        Args:
            raise_on_error: raise the first failed search's error (the default). When False,
                a failed search's place in the list holds its error instead of a ``Response``,
                as ``asyncio.gather(..., return_exceptions=True)`` does.

        Returns:
            One item per search, in the order they were added; each ``Response.search`` is
            the search it answers.

        Raises:
            elasticsearch.ApiError: the client's exception class for the failed search's
                status (``NotFoundError`` for a missing index, ``BadRequestError`` for a bad
                query), with that search's error ``body``; a note names its position.
            HitValidationError: a hit does not validate as its model (whatever ``raise_on_error``),
                unless its search skips or collects such hits (``on_invalid()``).
            InvalidIndexNameError: an index name is invalid; nothing was sent.
        """
        if ignore_cache or self._odm_results is None:
            self._odm_results = await self._send()
        if raise_on_error:
            for result in self._odm_results:
                if isinstance(result, ApiError):
                    raise result.with_traceback(None)
        return list(self._odm_results)

    async def _send(self) -> list[Response[T] | ApiError]:
        if not self._searches:
            return []
        index = check_index_pattern(self._index) if self._index else None
        for search in self._searches:
            search._index_param()  # checks each header's index before anything is sent
        searches = self.to_dict()
        raw = await send(
            get_client(self._using), lambda quiet: quiet.msearch(index=index, searches=searches, **self._params), self._retry
        )
        items = raw.body["responses"]
        results: list[Response[T] | ApiError] = []
        for position, (search, item) in enumerate(zip(self._searches, items)):
            if "error" in item:
                where = f"the search at index {position} (of {len(items)}) of the multi search"
                results.append(_error_of(raw.meta, item, where))
            else:
                results.append(search._response_of(item))  # hits read by the search's on_invalid policy
        return results


def _error_of(meta: ApiResponseMeta, item: Mapping[str, Any], where: str) -> ApiError:
    """The exception the client raises for ``item`` when it is a whole response on its own."""
    status = int(item.get("status", 500))
    error = item["error"]
    message = error["type"] if isinstance(error, Mapping) and "type" in error else str(error)
    exception = HTTP_EXCEPTIONS.get(status, ApiError)(
        message=message, meta=dataclasses.replace(meta, status=status), body=dict(item)
    )
    if sys.version_info >= (3, 11):
        exception.add_note(f"raised by {where}")
    return exception
