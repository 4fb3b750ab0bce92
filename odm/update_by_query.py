"""``AsyncUpdateByQuery[T]``: update every document a query matches, with a typed result.

The request (``query``, ``filter``, ``exclude``, ``script``, ``params``, ``extra``) is
elasticsearch.dsl's ``UpdateByQueryBase``; this class sends it through
``odm.async_connections`` and reads the answer into :class:`UpdateByQueryResult`.
Elasticsearch runs it in its ``reindex`` module; scripts need ``lang-painless``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, overload

from elasticsearch.dsl.response import Hit
from elasticsearch.dsl.update_by_query_base import UpdateByQueryBase
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from typing_extensions import Self, TypeVar

from ._core.document_options import is_document_class, options_of
from ._core.names import check_index_pattern
from ._core.tenancy import TenantView, scoped_body
from ._core.retry import RetryPolicy
from ._sending import send_not_idempotent
from .connections import UsingType, get_client
from .errors import NoIndexError

__all__ = ["AsyncUpdateByQuery", "UpdateByQueryFailure", "UpdateByQueryResult", "UpdateByQueryRetries"]

T = TypeVar("T", default=Hit)


class UpdateByQueryRetries(BaseModel):
    """How often Elasticsearch retried a bulk write or a search while updating."""

    model_config = ConfigDict(frozen=True)

    bulk: int = 0
    search: int = 0


class UpdateByQueryFailure(BaseModel):
    """One document (or shard) that could not be updated; other keys stay as extra attributes.

    Attributes:
        cause: Elasticsearch's error object (``type``, ``reason``, ...); a shard failure's
            ``reason`` is read into it too.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    index: str | None = None
    id: str | None = None
    status: int | None = None
    cause: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("cause", "reason"))


class UpdateByQueryResult(BaseModel):
    """What an update by query did: the counts Elasticsearch reports, and its failures.

    With ``params(wait_for_completion=False)`` Elasticsearch only answers with ``task``
    (follow it with the tasks API) and every count is 0.
    """

    model_config = ConfigDict(frozen=True)

    took: int = 0
    timed_out: bool = False
    total: int = 0
    updated: int = 0
    deleted: int = 0
    batches: int = 0
    version_conflicts: int = 0
    noops: int = 0
    retries: UpdateByQueryRetries = UpdateByQueryRetries()
    throttled_millis: int = 0
    requests_per_second: float = -1
    throttled_until_millis: int = 0
    failures: list[UpdateByQueryFailure] = []
    task: str | None = None

    def success(self) -> bool:
        """True when nothing failed and nothing timed out, as elasticsearch-dsl's ``success()``.

        Version conflicts under ``conflicts="proceed"`` are counted, not failures.
        """
        return not self.failures and not self.timed_out


class AsyncUpdateByQuery(UpdateByQueryBase[T], Generic[T]):
    """An update by query over the indices of ``index`` (or of the document class).

    Example::

        ubq = (
            Post.update_by_query()
            .filter("term", tags="python")
            .script(source="ctx._source.views += params.n", params={"n": 1})
            .params(conflicts="proceed", refresh=True)
        )
        result = await ubq.execute()  # UpdateByQueryResult: result.updated, result.success()
    """

    _using: UsingType
    #: The tenant this update is limited to (a tenant-scoped class's needs one: docs/tenancy.md).
    _odm_tenancy: TenantView | None = None

    @overload
    def __init__(
        self: AsyncUpdateByQuery[Hit],
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
        doc_type: type[T] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None: ...
    def __init__(
        self,
        using: UsingType = "default",
        index: str | Sequence[str] | None = None,
        doc_type: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Build the request; nothing is sent until :meth:`execute`.

        Args:
            using: connection alias or client.
            index: index names, patterns or aliases; by default the document class's index.
            doc_type: the document class the query is about.
            extra: raw body keys (``max_docs``, ``slice``, ...).
        """
        if index is None and doc_type is not None:
            index = options_of(doc_type).name if is_document_class(doc_type) else None
        if isinstance(index, Sequence) and not isinstance(index, str):
            index = list(index)
        super().__init__(using=using, index=index, doc_type=doc_type, extra=extra)

    def _clone(self) -> Self:
        update = super()._clone()
        update._odm_tenancy = self._odm_tenancy
        return update

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """The request body; a tenant scope's update is limited to its tenant here.

        Raises:
            UnscopedAccessError: the update is of a tenant-scoped class and has no scope.
        """
        models = [model for model in self._doc_type if is_document_class(model)]
        return scoped_body(models, self._odm_tenancy, super().to_dict(**kwargs), self._params)

    async def execute(self, retry: RetryPolicy | None = None) -> UpdateByQueryResult:
        """Run the update and wait for it (unless ``params(wait_for_completion=False)``).

        Sent again under ``retry`` (else the connection's policy) only after an answer that
        refused it (429, 503): an update by query run twice is not one run once (a script
        such as ``+= 1`` adds twice), so after a lost answer odm raises instead
        (docs/reliability.md).

        Raises:
            NoIndexError: no index was given; an update over every index is never implied.
            InvalidIndexNameError: an index name is invalid; nothing was sent.
            elasticsearch.ApiError: the client's own error, unwrapped: ``BadRequestError``
                when the node lacks the ``reindex`` module, ``ConflictError`` on a version
                conflict without ``conflicts="proceed"``, ...
            OutcomeUnknownError: the answer was lost (``operation="update_by_query"``): it may
                have run, in part or whole, or be running still; odm did not send it again.
        """
        if not self._index:
            raise NoIndexError("update by query needs an index: pass index=... or a document class with Index.name")
        index = check_index_pattern(self._index)
        # Body keys as keyword arguments, as elasticsearch.dsl sends them: the client then places
        # ``conflicts`` and ``max_docs`` itself, whether they came from params() or extra().
        body = self.to_dict()
        raw = await send_not_idempotent(
            get_client(self._using), lambda quiet: quiet.update_by_query(index=index, **body, **self._params),
            retry, index, "update_by_query",
        )
        return UpdateByQueryResult.model_validate(raw.body)
