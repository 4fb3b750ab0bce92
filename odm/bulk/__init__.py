"""Bulk writes that account for every input: streamed in chunks, retried, never lost.

``await bulk(actions)`` (or ``await Post.bulk(posts)``) reads documents or actions
from a list, an iterable or an async iterable; validates and encodes each one
(an invalid one is reported, not sent); sends them in chunks bounded by count and
bytes, a few chunks at a time; retries items Elasticsearch rejected with 429 and
whole chunks that hit a connection error, with exponential backoff; and returns a
:class:`BulkResult` in which every input read is succeeded, failed or not attempted.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING

from typing_extensions import TypeVar, Unpack

from ..connections import UsingType, get_client
from ..errors import BulkError, BulkItemError
from ._actions import BulkAction, CreateAction, DeleteAction, IndexAction, UpdateAction
from ._result import BulkFailure, BulkNotAttempted, BulkResult, BulkSuccess
from ._run import DEFAULTS, BulkInput, BulkOptions, BulkRun

if TYPE_CHECKING:
    from ..document import AsyncDocument

__all__ = [
    "BulkAction",
    "BulkError",
    "BulkFailure",
    "BulkInput",
    "BulkItemError",
    "BulkNotAttempted",
    "BulkOptions",
    "BulkResult",
    "BulkSuccess",
    "CreateAction",
    "DeleteAction",
    "IndexAction",
    "UpdateAction",
    "bulk",
]

D = TypeVar("D", bound="AsyncDocument", default="AsyncDocument")


async def bulk(
    actions: Iterable[BulkInput[D]] | AsyncIterable[BulkInput[D]],
    *,
    using: UsingType = "default",
    document_class: type[D] | None = None,
    unscoped: bool = False,
    **options: Unpack[BulkOptions],
) -> BulkResult[D]:
    """Index, create, update or delete many documents; every input is accounted for.

    Example::

        result = await bulk([post, CreateAction(other), DeleteAction(old)], refresh=True)
        for failure in result.failed:
            print(failure.position, failure.document, failure.error)

    Args:
        actions: documents (indexed) and :class:`IndexAction`, :class:`CreateAction`,
            :class:`UpdateAction`, :class:`DeleteAction` objects.
        using: the connection alias or client.
        document_class: the model of updates and deletes given by id.
        unscoped: write documents of tenant-scoped classes whatever their tenant, asked for
            by name (a migration's copy does); otherwise each of their inputs is refused
            (:class:`~odm.UnscopedAccessError`): write them through ``Ticket.for_tenant(t).bulk()``.
        options: see :class:`BulkOptions`.

    Returns:
        Which inputs succeeded (ids, versions and seq_no written back into the
        documents' ``meta``), failed (with the error) or were not attempted (the bulk
        stopped first: a request that failed after its retries, or ``stop_on_invalid``).

    Raises:
        BulkError: ``raise_on_error=True`` and not every input succeeded; it carries the result.
    """
    run: BulkRun[D] = BulkRun(get_client(using), {**DEFAULTS, **options}, document_class, unscoped=unscoped)
    return await run.run(actions)
