"""One bulk write: read inputs, encode them, send chunks a few at a time, account for all.

The inputs are read only as fast as chunks complete (at most
``max_concurrent_chunks`` requests in flight), so an endless generator streams in
bounded memory. Every input read ends in exactly one list of the result; a fatal
error or a cancellation stops the reading and what was not sent is "not attempted".
Requests in flight when the bulk is cancelled are awaited, so their outcome is
known, unless it is cancelled again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Union, cast

from elasticsearch import AsyncElasticsearch
from typing_extensions import TypeAlias, TypedDict, TypeVar

from .._core.document_options import is_document, options_of
from .._core.retry import Attempts, Retry, RetryPolicy
from .._core.tenancy import TenantView
from .._core.writes import Revalidate, same_source
from .._sending import bulk_request, retry_policy_of, send
from ..errors import BulkError, BulkItemError, OdmError, OutcomeUnknownError
from ..search._mget import send_mget
from ._actions import (
    BulkAction,
    CreateAction,
    Defaults,
    DeleteAction,
    Encoded,
    IndexAction,
    UpdateAction,
    encode,
    encode_many,
    record_success,
)
from ._result import BulkFailure, BulkNotAttempted, BulkResult, BulkSuccess

if TYPE_CHECKING:
    from ..document import AsyncDocument

__all__ = ["DEFAULTS", "BulkInput", "BulkOptions", "BulkRun"]

D = TypeVar("D", bound="AsyncDocument", default="AsyncDocument")

BulkInput: TypeAlias = Union[D, BulkAction[D]]


class BulkOptions(TypedDict, total=False):
    """How :func:`odm.bulk` and ``Document.bulk`` run; every key is optional.

    Attributes:
        index: the index for inputs that name none (before ``meta.index`` and ``Index.name``).
        chunk_size: the most actions in one request (500).
        max_chunk_bytes: the most bytes in one request (10 MiB); a larger document goes alone.
        max_concurrent_chunks: requests in flight at once (2).
        retry: the :class:`~odm.RetryPolicy` of each chunk's requests, its items answered 429 or
            503 included (by default the connection's; see docs/reliability.md).
        max_retries: the policy's ``max_retries``: re-sends of a chunk (3), whether the request
            or some of its items were answered 429 or 503, or it hit a connection error; a TLS
            verification failure is never retried.
        initial_backoff: the policy's: seconds before the first retry, doubled each time (0.5).
        max_backoff: the policy's: the longest wait between retries, in seconds (30).
        refresh: ``True`` or ``"wait_for"``: refresh the written indices once, at the end.
        revalidate: ``"auto"`` (the default): the serializer refuses values of the wrong
            type, and documents whose classes have constraints, validators or literals are
            validated again from the bytes to be sent (and stored as validated). ``True``
            validates every document again; ``False`` only type-checks (docs/bulk.md).
        stop_on_invalid: at the first input that fails validation, send the inputs before it
            and none after (False: report it and go on).
        raise_on_error: raise :class:`~odm.BulkError` unless every input succeeded (False).
        progress: called with the live :class:`~odm.BulkResult` each time requests complete,
            and once at the end (also when the bulk is cancelled or stopped).
        require_alias: every action must name an alias (``require_alias=true`` on the request):
            an action whose index is no alias fails (404 ``index_not_found_exception``) and no
            index is created for it (False). Migrations write through an alias of their own
            with it (their fence, ``docs/migrations.md``).
        timestamps: ``False``: write the documents with the timestamps they hold, and let an
            ``UpdateAction`` set them (a copy or a restore of stored documents; the migrations'
            copy does). By default odm sets a class's ``Index.timestamps`` on every action, as
            ``save()`` and ``update()`` do (docs/documents.md#timestamps).
    """

    index: str
    chunk_size: int
    max_chunk_bytes: int
    max_concurrent_chunks: int
    retry: RetryPolicy
    max_retries: int
    initial_backoff: float
    max_backoff: float
    refresh: bool | Literal["wait_for", "true", "false"]
    revalidate: Revalidate
    stop_on_invalid: bool
    raise_on_error: bool
    progress: Callable[[BulkResult[Any]], object]
    require_alias: bool
    timestamps: bool


DEFAULTS: BulkOptions = {
    "chunk_size": 500,
    "max_chunk_bytes": 10 * 2**20,
    "max_concurrent_chunks": 2,
    "refresh": False,
    "revalidate": "auto",
    "stop_on_invalid": False,
    "raise_on_error": False,
    "require_alias": False,
    "timestamps": True,
}

_ACTIONS = (IndexAction, CreateAction, UpdateAction, DeleteAction)
# What an input itself can be wrong about: reported as its failure while the others go on.
# Only odm's own errors: a bug (a TypeError in a validator of the user's) is not an input error.
_INVALID_INPUT = (OdmError,)
#: Inputs of a sequence encoded together (``encode_many``): enough to spread pydantic-core's
#: cost per call thin, few enough that an input reported not attempted was rarely encoded.
_GROUP = 64
_POLICY_OPTIONS = ("max_retries", "initial_backoff", "max_backoff")
# What an item confirmed by reading its document back reports, as a write's answer would.
_READ_BACK = ("_index", "_id", "_version", "_seq_no", "_primary_term")


async def _enumerate(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[tuple[int, Any], None]:
    if isinstance(items, AsyncIterable):
        position = 0
        async for item in items:
            yield position, item
            position += 1
    else:
        for pair in enumerate(items):
            yield pair


class BulkRun(Generic[D]):
    """The state of one :func:`odm.bulk` call."""

    def __init__(
        self, client: AsyncElasticsearch, options: BulkOptions, document_class: type[D] | None,
        tenancy: TenantView | None = None, unscoped: bool = False,
    ) -> None:
        self.client = client
        self.options = options
        self.policy = _policy(client, options)
        self.defaults = Defaults(
            options.get("index"), document_class, options["revalidate"], tenancy, unscoped, options["timestamps"]
        )
        self.result: BulkResult[D] = BulkResult()
        self.read = 0  # inputs read so far
        self.unsent: list[Encoded] = []  # encoded, not yet in a request
        self.unsent_bytes = 0
        self.in_flight: set[asyncio.Task[None]] = set()
        self.stopped = False
        self.written: set[str] = set()
        #: Query parameters of every request.
        self.parameters: dict[str, Any] = {"require_alias": True} if options.get("require_alias") else {}

    async def run(self, inputs: Iterable[BulkInput[D]] | AsyncIterable[BulkInput[D]]) -> BulkResult[D]:
        """Write every input and return the result (see :func:`odm.bulk`)."""
        try:
            if isinstance(inputs, Sequence) and not self.options.get("stop_on_invalid"):
                await self._take_all(inputs)
            else:
                async with contextlib.aclosing(_enumerate(inputs)) as items:
                    async for position, item in items:
                        self.read = position + 1
                        await self._take(position, _as_action(item))
            await self._dispatch()
            while self.in_flight:
                await self._wait_for_one()
        except BaseException:  # cancelled, or the inputs or the progress callback raised
            self._give_up()
            if isinstance(inputs, Sequence):
                for position in range(self.read, len(inputs)):
                    self._not_attempted(position, _as_action(inputs[position]))
            try:
                await self._settle()
            finally:
                self._finish()
            raise
        if self.options.get("refresh") in (True, "true", "wait_for") and self.written:
            await self.client.indices.refresh(index=sorted(self.written))
        self._finish()
        if self.options.get("raise_on_error") and not self.result.ok:
            raise BulkError(self.result)
        return self.result

    async def _take_all(self, inputs: Sequence[BulkInput[D]]) -> None:
        """Take every input of a sequence, encoded ``_GROUP`` at a time (``encode_many``).

        A generator's inputs are taken one by one as they come (``_take``): one that yields
        the same document again, changed, is sent as it was at each yield. A sequence holds
        its inputs already, so encoding a few ahead of their turn changes nothing they hold.
        """
        for start in range(0, len(inputs), _GROUP):
            actions = [_as_action(inputs[position]) for position in range(start, min(start + _GROUP, len(inputs)))]
            outcomes = encode_many(actions, start, self.defaults) if not self.stopped else [None] * len(actions)
            for offset, (action, outcome) in enumerate(zip(actions, outcomes)):
                self.read = start + offset + 1
                await self._take(start + offset, action, outcome)

    async def _take(self, position: int, action: BulkAction[D], outcome: Encoded | Exception | None = None) -> None:
        """Put ``action`` with the unsent inputs, encoded here or, ``outcome``, by ``encode_many``
        (its lines, or the error encoding it raised); send them when they make a chunk."""
        if self.stopped:
            self._give_up()
            self._not_attempted(position, action)
            return
        try:
            if isinstance(outcome, Exception):
                raise outcome
            encoded = outcome if outcome is not None else encode(action, position, self.defaults)
        except _INVALID_INPUT as error:
            self.result.failed.append(BulkFailure(position, action, error))
            if self.options.get("stop_on_invalid"):
                await self._dispatch()  # the inputs before it go; none after
                self.stopped = True
            return
        except BaseException as error:  # a bug, e.g. in a validator: this input failed, the bulk stops
            self.result.failed.append(BulkFailure(position, action, error))
            raise
        full = len(self.unsent) >= self.options["chunk_size"]
        if self.unsent and (full or self.unsent_bytes + len(encoded.lines) > self.options["max_chunk_bytes"]):
            # Keep the new input with the unsent ones, so a cancellation here accounts for it.
            chunk, self.unsent, self.unsent_bytes = self.unsent, [encoded], len(encoded.lines)
            await self._dispatch(chunk)
        else:
            self.unsent.append(encoded)
            self.unsent_bytes += len(encoded.lines)

    async def _dispatch(self, chunk: list[Encoded] | None = None) -> None:
        """Send ``chunk`` (by default all unsent inputs) once fewer requests are in flight."""
        if chunk is None:
            chunk, self.unsent, self.unsent_bytes = self.unsent, [], 0
        if not chunk:
            return
        try:
            while len(self.in_flight) >= self.options["max_concurrent_chunks"]:
                await self._wait_for_one()
        except BaseException:
            self.unsent[:0] = chunk
            raise
        if self.stopped:
            for encoded in chunk:
                self._not_attempted(encoded.position, encoded.action)
            return
        self.in_flight.add(asyncio.create_task(self._send(chunk)))

    async def _wait_for_one(self) -> None:
        done, _ = await asyncio.wait(self.in_flight, return_when=asyncio.FIRST_COMPLETED)
        self.in_flight -= done
        self._report()

    async def _send(self, chunk: list[Encoded]) -> None:
        """One request, plus its retries; every item ends in the result, whatever happens.

        One :class:`Attempts` per chunk: the policy bounds every request of the chunk, the
        whole-request retries (in ``send``) and those of its items answered 429 or 503 (here).
        """
        pending, attempts, loop = chunk, Attempts(), asyncio.get_running_loop()
        try:
            while pending:
                payload = b"".join(encoded.lines for encoded in pending)
                unanswered = attempts.unanswered
                try:
                    response = await send(
                        self.client, lambda client: bulk_request(client, payload, self.parameters), self.policy, attempts
                    )
                finally:
                    if attempts.unanswered > unanswered:  # a request without an answer: each item may be applied
                        for encoded in pending:
                            encoded.unanswered = True
                delay = self.policy.delay_after(attempts, loop.time())
                pending, conflicts = self._record(pending, response.body["items"], delay is None, attempts.sent)
                if conflicts:
                    await self._read_back(conflicts)
                if not pending:
                    return
                assert delay is not None  # items are kept for a retry only when there is one
                if self.policy.on_retry is not None:
                    error = pending[0].rejected or BulkItemError(429, None, None, {})
                    self.policy.on_retry(Retry(attempts.sent, error, delay, False))
                await asyncio.sleep(delay)
        except Exception as error:  # the request failed for good: its items failed, stop
            self._fail(pending, error)
        except asyncio.CancelledError as error:
            self._fail(pending, error)
            raise

    def _record(
        self, pending: list[Encoded], items: Sequence[Mapping[str, Any]], last: bool, sent: int
    ) -> tuple[list[Encoded], list[tuple[Encoded, Mapping[str, Any]]]]:
        """File each item's outcome.

        A 409 or a 404 is read as the item's own first attempt only after a request of it
        got no answer (``Encoded.unanswered``): on a first attempt a conflict is a conflict.

        Returns:
            The items answered 429 or 503, to retry, and the creates answered 409 after a
            lost answer, to read back (see :meth:`_read_back`); neither is filed yet.
        """
        retry: list[Encoded] = []
        conflicts: list[tuple[Encoded, Mapping[str, Any]]] = []
        statuses = self.policy.statuses
        for encoded, item in zip(pending, items, strict=True):
            [(op, info)] = item.items()
            status = int(info.get("status", 500))
            if status < 300:
                self._succeeded(encoded, info)
            elif status in statuses and not last:
                encoded.rejected = _item_error(info)
                retry.append(encoded)
            elif not encoded.unanswered:
                self._failed(encoded, info)
            elif status == 409 and op == "create" and info.get("_id") is not None:
                # Only a create is confirmed by content: a write guarded by seq_no that finds
                # the same values may have lost a race (two increments from 5 both write 6).
                conflicts.append((encoded, info))
            elif status == 409:  # its own first attempt moved the seq_no, or another writer did
                lost = OutcomeUnknownError(info.get("_index"), info.get("_id"), sent, None, _item_error(info))
                self.result.failed.append(BulkFailure(encoded.position, encoded.action, lost))
            elif status == 404 and op == "delete" and info.get("result") == "not_found":
                self._succeeded(encoded, {**info, "result": "deleted"}, confirmed=True)  # absent either way
            elif status in statuses:  # refused on the last attempt, after one that may have been applied
                lost = OutcomeUnknownError(info.get("_index"), info.get("_id"), sent, None, _item_error(info))
                self.result.failed.append(BulkFailure(encoded.position, encoded.action, lost))
            else:
                self._failed(encoded, info)
        return retry, conflicts

    async def _read_back(self, conflicts: list[tuple[Encoded, Mapping[str, Any]]]) -> None:
        """Read back the documents of creates answered 409 after a lost answer; the same content means success.

        A create whose request got no answer was sent again by odm; if its first attempt was
        applied, the re-send meets its own document. Anything else is a conflict.
        """
        wanted = [
            {"_index": info["_index"], "_id": info["_id"], **({"routing": encoded.routing} if encoded.routing else {})}
            for encoded, info in conflicts
        ]
        try:  # with vectors, whatever the class declares: the stored document may be another program's
            docs = (await send(self.client, lambda client: send_mget(client, docs=wanted, vectors=True), self.policy))["docs"]
        except Exception as error:  # the outcome of these creates stays unknown
            self._unknown(conflicts, error)
            return
        except BaseException as error:  # cancelled: the outcome of these creates stays unknown
            self._unknown(conflicts, error)
            raise
        docs = list(docs) + [{}] * (len(conflicts) - len(docs))  # a short answer confirms nothing
        for (encoded, info), doc in zip(conflicts, docs):
            model = type(encoded.document) if encoded.document is not None else None
            if doc.get("found") is True and same_source(encoded.body, doc.get("_source"), model):
                answer = {**{key: doc.get(key, info.get(key)) for key in _READ_BACK}, "result": "created"}
                self._succeeded(encoded, answer, confirmed=True)
            else:
                self._failed(encoded, info)

    def _unknown(self, conflicts: list[tuple[Encoded, Mapping[str, Any]]], error: BaseException) -> None:
        """Creates whose read-back failed: not a 409 (each may be its own earlier write), but
        failed with the error that left their outcome unknown, as a failed request's items are."""
        for encoded, _ in conflicts:
            self.result.failed.append(BulkFailure(encoded.position, encoded.action, error))

    def _succeeded(self, encoded: Encoded, info: Mapping[str, Any], confirmed: bool = False) -> None:
        record_success(encoded, info)
        self.written.add(info["_index"])
        self.result.succeeded.append(
            BulkSuccess(
                encoded.position,
                encoded.action,
                info["_index"],
                info["_id"],
                str(info.get("result", "")),
                info.get("_version"),
                info.get("_seq_no"),
                info.get("_primary_term"),
                confirmed,
            )
        )

    def _failed(self, encoded: Encoded, info: Mapping[str, Any]) -> None:
        self.result.failed.append(BulkFailure(encoded.position, encoded.action, _item_error(info)))

    def _fail(self, pending: list[Encoded], error: BaseException) -> None:
        self.stopped = True
        for encoded in pending:
            self.result.failed.append(BulkFailure(encoded.position, encoded.action, error))

    def _not_attempted(self, position: int, action: BulkAction[D]) -> None:
        self.result.not_attempted.append(BulkNotAttempted(position, action))

    def _give_up(self) -> None:
        """What is encoded but not sent will not be: it is not attempted."""
        for encoded in self.unsent:
            self._not_attempted(encoded.position, encoded.action)
        self.unsent, self.unsent_bytes = [], 0

    async def _settle(self) -> None:
        """Wait for the requests in flight; cancelled again, cancel them (each records its items)."""
        if not self.in_flight:
            return
        try:
            await asyncio.shield(asyncio.wait(self.in_flight))
        except asyncio.CancelledError:
            for task in self.in_flight:
                task.cancel()
            await asyncio.wait(self.in_flight)
            raise
        finally:
            self.in_flight.clear()

    def _report(self) -> None:
        progress = self.options.get("progress")
        if progress is not None:
            progress(self.result)

    def _finish(self) -> None:
        self.result.sort()
        self._report()


def _item_error(info: Mapping[str, Any]) -> BulkItemError:
    return BulkItemError(int(info.get("status", 500)), info.get("_index"), info.get("_id"), info.get("error") or {})


def _policy(client: AsyncElasticsearch, options: BulkOptions) -> RetryPolicy:
    """``retry=`` (else the connection's policy), with bulk's own option names over it."""
    policy = retry_policy_of(client, options.get("retry"))
    overrides = {key: options[key] for key in _POLICY_OPTIONS if key in options}  # type: ignore[literal-required]
    return dataclasses.replace(policy, **overrides) if overrides else policy


def _as_action(item: Any) -> BulkAction[Any]:
    if isinstance(item, _ACTIONS):
        return item
    if is_document(item) and options_of(type(item)).data_stream:
        return CreateAction(item)  # a data stream takes creates only
    return IndexAction(item)
