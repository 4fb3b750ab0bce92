"""The exception tree: every error a user of `odm` can meet, each naming its index, id and field.

Every class here derives from :class:`OdmError` and from the builtin or client exception
it stands for (``ValueError``, ``LookupError``, ``TypeError``, ``elasticsearch.ConflictError``,
``elasticsearch.NotFoundError``), so ``except`` clauses written for those keep working.
Where an error wraps one of the client's, ``.message``/``.error``, ``.meta`` and ``.body``
are the client's own (``error.error == "version_conflict_engine_exception"``) and the
client's exception is the ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import elasticsearch
from pydantic import ValidationError

from ._core.redaction import redact, redact_url

if TYPE_CHECKING:
    from elastic_transport import ApiResponseMeta

__all__ = [
    "AdoptError",
    "AliasNotFoundError",
    "ArgumentError",
    "BulkError",
    "BulkInputError",
    "BulkItemError",
    "CursorError",
    "DocumentExistsError",
    "DocumentNotFoundError",
    "DocumentReadError",
    "DocumentStateError",
    "DocumentValidationError",
    "FacetKeyError",
    "FieldQueryError",
    "HitClassError",
    "HitValidationError",
    "IndexBlockedError",
    "IndexNotFoundError",
    "InvalidETagError",
    "InvalidIdError",
    "InvalidIndexNameError",
    "MappingConflictError",
    "MappingError",
    "MigrationError",
    "MigrationFailedError",
    "MigrationLockedError",
    "MigrationStateError",
    "NoIndexError",
    "NodeUnavailableError",
    "OdmError",
    "OptionalDependencyError",
    "OutcomeUnknownError",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "ScrollLostError",
    "SearchStateError",
    "SettingsError",
    "TenantError",
    "UnscopedAccessError",
    "VersionConflictError",
    "VersionedIndexError",
]


class OdmError(Exception):
    """Base class of every error `odm` raises itself."""


# -- definitions and arguments, found before anything is sent ----------------------------


class MappingError(OdmError, TypeError):
    """A model's type hints cannot be turned into an Elasticsearch mapping (at class definition)."""


class InvalidIdError(OdmError, ValueError):
    """A document id that would be unsafe in a request path (``.``, ``..``, empty, over 512 bytes)."""


class InvalidIndexNameError(OdmError, ValueError):
    """An index name Elasticsearch would refuse, an empty index value, or a pattern where one index is meant."""


class NoIndexError(OdmError, LookupError, ValueError):
    """No index was named: the class has no ``Index.name`` and no ``index=`` was given.

    Also raised by destructive calls (delete by query, update by query) that would
    otherwise run on every index.
    """


class ArgumentError(OdmError, ValueError, TypeError):
    """An argument odm cannot use as given (a wrong type, an unknown name, a conflicting
    definition); raised before anything is sent."""


class SearchStateError(OdmError, ValueError):
    """A search call that needs an earlier step first, e.g. ``search_after()`` before ``execute()``."""


class FieldQueryError(OdmError, TypeError):
    """A field expression cannot build the query asked for; raised before anything is sent.

    For example ``Post.body == "x"`` when ``body`` is a ``text`` field without a
    ``keyword`` sub-field, or a value that is not of the field's type.
    """


class DocumentStateError(OdmError, ValueError):
    """A document cannot be written as asked: no ``meta.id`` to update or delete, no concurrency
    tokens for ``if_unchanged=True``, or a ``_source`` that was read only in part.

    Attributes:
        index: the index it was meant for.
        id: its id, if it has one.
    """

    def __init__(self, message: str, index: str | None = None, id: str | None = None) -> None:
        self.index = index
        self.id = id
        super().__init__(f"{message} (document {id!r}, index {index!r})")


class BulkInputError(OdmError, TypeError):
    """An input of a bulk write that is neither a document nor a bulk action."""


def _describe(errors: ValidationError) -> str:
    parts = []
    for error in errors.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "<document>"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


class DocumentValidationError(OdmError, ValueError):
    """A document failed validation before it was sent; nothing was written.

    Attributes:
        index: the index the document was meant for.
        id: the document id, if it had one.
        errors: pydantic's ``ValidationError`` (also the ``__cause__``), or ``None`` when the
            serializer refused a value (the message says which).
    """

    def __init__(self, index: str | None, id: str | None, errors: ValidationError | str) -> None:
        self.index = index
        self.id = id
        self.errors = errors if isinstance(errors, ValidationError) else None
        title = errors.title if isinstance(errors, ValidationError) else "the"
        detail = _describe(errors) if isinstance(errors, ValidationError) else errors
        super().__init__(f"{title} document for index {index!r} (id {id!r}) is invalid, nothing was sent: {detail}")


# -- reading -----------------------------------------------------------------------------


class HitValidationError(OdmError, ValueError):
    """A hit's ``_source`` does not validate as its model; raised, never silently dropped.

    Attributes:
        index: the ``_index`` of the hit.
        id: the ``_id`` of the hit.
        errors: pydantic's ``ValidationError`` (also the ``__cause__``).
        model: the name of the class it was validated as.
    """

    def __init__(self, index: str | None, id: str | None, errors: ValidationError, model: str) -> None:
        self.index = index
        self.id = id
        self.errors = errors
        self.model = model
        super().__init__(f"hit {id!r} in index {index!r} is not a valid {model}: {_describe(errors)}")


class AggregationResultError(OdmError, ValueError):
    """A typed aggregation result is missing from the response or not of its declared shape.

    Never answered with an empty or invented value: a search that did not ask for the
    aggregation, or asked under another name, gets this error naming it.

    Attributes:
        aggregations: the name of the declared class (``Facets``).
        names: the aggregations that failed, as paths (``colors``, ``colors.buckets[0].key``).
        errors: pydantic's ``ValidationError`` (also the ``__cause__``).
    """

    def __init__(self, aggregations: str, errors: ValidationError) -> None:
        self.aggregations = aggregations
        self.errors = errors
        self.names: list[str] = []
        parts = []
        for error in errors.errors(include_url=False):
            path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
            self.names.append(path)
            if error["type"] == "missing":
                parts.append(f"{aggregations}.{path} is missing from the response (did the search ask for it?)")
            else:
                parts.append(f"{aggregations}.{path}: {error['msg']}")
        super().__init__("; ".join(parts))


class FacetKeyError(AggregationResultError):
    """A bucket key of a terms facet is not a valid value of its field in the model.

    A value stored by another program, or before a model change (an enum member removed):
    never turned into another value. Raised by a faceted search whose ``on_invalid`` is
    ``"raise"``; ``"skip"`` and ``"collect"`` leave the bucket out and log this message.

    Attributes:
        facet: the facet's name.
        field: the field's path.
        key: the bucket's key as Elasticsearch sent it.
    """

    def __init__(self, search: str, facet: str, field: str, key: Any, position: int, errors: ValidationError) -> None:
        super().__init__(search, errors)
        self.facet = facet
        self.field = field
        self.key = key
        self.names = [f"{facet}.buckets[{position}].key"]
        reasons = "; ".join(error["msg"] for error in errors.errors(include_url=False))
        self.args = (f"{search} facet {facet!r}: bucket key {key!r} is not a valid value of field {field!r}: {reasons}",)


class HitClassError(OdmError, LookupError):
    """A search over several document classes cannot tell which class a hit is.

    Raised when building a search whose classes share an index without a ``Literal``
    discriminator field, and for a hit that matches none of the classes.
    """


class MappingConflictError(OdmError, ValueError):
    """``init()`` found fields whose live mapping is incompatible with the model; nothing changed.

    Attributes:
        index: the index that was checked.
        conflicts: one line per conflicting field path.
    """

    def __init__(self, index: str, conflicts: Sequence[str]) -> None:
        self.index = index
        self.conflicts = list(conflicts)
        listing = "; ".join(self.conflicts)
        super().__init__(
            f"the mapping of index {index!r} is incompatible with the model, nothing was changed: {listing}"
        )


class VersionedIndexError(OdmError, LookupError):
    """The indices behind a versioned class's alias are not as odm keeps them; nothing was changed.

    A concrete index named like the alias (``adopt()`` moves it behind the alias), or an
    alias with no single write index.

    Attributes:
        index: the alias (``Index.name``).
    """

    def __init__(self, index: str, message: str) -> None:
        self.index = index
        super().__init__(f"index {index!r}: {message}")


class AdoptError(OdmError, RuntimeError):
    """``adopt()`` could not move an index behind its alias.

    Before the alias switch nothing is lost: the original index keeps its documents and
    its write block is lifted again. The message says which step failed and what was
    left; the client's error is the ``__cause__``.

    Attributes:
        index: the index being adopted (the future alias).
        target: the ``<index>-v1`` clone.
        detail: what happened, without the names.
    """

    def __init__(self, index: str, target: str, detail: str) -> None:
        self.index = index
        self.target = target
        self.detail = detail
        super().__init__(f"adopting index {index!r} as {target!r}: {detail}")


# -- tenants (docs/tenancy.md) -------------------------------------------------------------


class UnscopedAccessError(OdmError, PermissionError):
    """A data operation on a tenant-scoped class without a tenant; nothing was sent.

    A class with ``Index.tenant_field`` fails closed: ``Ticket.get(...)``, ``Ticket.search()``
    or ``doc.save()`` of a document not read or written through a scope is refused. Use
    ``Ticket.for_tenant(tenant)``, or ``Ticket.unscoped()`` to act across tenants by name.

    Attributes:
        document: the class's name.
        operation: what was refused (``"get()"``, ``"save()"``, ...).
    """

    def __init__(self, document: str, operation: str, field: str) -> None:
        self.document = document
        self.operation = operation
        self.field = field
        super().__init__(
            f"{document} is tenant-scoped (Index.tenant_field = {field!r}): {operation} needs a tenant. "
            f"Use {document}.for_tenant(tenant).{operation.split('(')[0]}(...), or "
            f"{document}.unscoped() to act across every tenant"
        )


class TenantError(OdmError, ValueError):
    """A tenant value odm cannot use, or a write a scope refuses; nothing was sent.

    Raised for an empty or malformed tenant, a document (or update) that holds another
    tenant than its scope's, and an id already taken in the shared index by a document
    the scope may not see (a client-chosen id; odm's generated ids cannot collide).

    Attributes:
        index, id, field: the index, the document id and the tenant field, where known.
        reason: ``"tenant"`` (the tenant value), ``"document"`` (a document or update of
            another tenant, or a search part that reads past the tenant's filter) or
            ``"id_taken"``; ``odm.fastapi`` answers 400, 400 and 409.
    """

    def __init__(
        self, message: str, index: str | None = None, id: str | None = None, field: str | None = None,
        reason: str = "document",
    ) -> None:
        self.index = index
        self.id = id
        self.field = field
        self.reason = reason
        where = ", ".join(f"{key} {value!r}" for key, value in (("document", id), ("index", index), ("field", field)) if value)
        super().__init__(f"{message} ({where})" if where else message)


# -- Elasticsearch's answers, with the document they were about ---------------------------


class _Answered(OdmError):
    """Mixin for the client's errors with odm's context: the index, the id, and what happened.

    ``message``/``error``, ``meta`` and ``body`` stay the client's, so code that reads
    ``error.error`` for Elasticsearch's error type keeps working.
    """

    index: str | None
    id: str | None
    description: str
    message: str
    body: Any

    def __str__(self) -> str:
        reason = _reason(self.body)
        return f"{self.description}" + (f": {self.message}: {reason}" if reason else f": {self.message}")


def _reason(body: Any) -> str:
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return str(error.get("reason", ""))
    return str(error) if error else ""


def error_type(body: Any) -> str | None:
    """Elasticsearch's error type in an error body (``"index_not_found_exception"``), if any."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        found = error.get("type")
        return str(found) if found is not None else None
    return None


def _init_answered(
    error: _Answered, exception: type[elasticsearch.ApiError], description: str, index: str | None,
    id: str | None, meta: ApiResponseMeta, body: Any, known_type: str | None = None,
) -> None:
    error.index, error.id, error.description = index, id, description
    message = error_type(body) or known_type or ("not_found" if meta.status == 404 else str(meta.status))
    exception.__init__(error, message, meta=meta, body=body)  # type: ignore[arg-type]


class VersionConflictError(_Answered, elasticsearch.ConflictError):
    """A write found the stored document changed since it was loaded (HTTP 409).

    Raised when ``seq_no``/``primary_term`` no longer match, and when a plain ``update()``
    ran out of ``retry_on_conflict`` retries.
    """

    def __init__(self, index: str | None, id: str | None, cause: elasticsearch.ApiError) -> None:
        _init_answered(
            self, elasticsearch.ConflictError,
            f"document {id!r} in index {index!r} was changed since it was loaded", index, id, cause.meta, cause.body,
        )


class DocumentExistsError(_Answered, elasticsearch.ConflictError):
    """``op_type="create"`` (or a ``CreateAction``) found a document with that id already (HTTP 409)."""

    def __init__(self, index: str | None, id: str | None, cause: elasticsearch.ApiError) -> None:
        _init_answered(
            self, elasticsearch.ConflictError, f"document {id!r} already exists in index {index!r}",
            index, id, cause.meta, cause.body,
        )


class DocumentNotFoundError(_Answered, elasticsearch.NotFoundError):
    """No document with that id in an index that exists (HTTP 404).

    Attributes:
        ids: every id that was not found: ``[id]``, or several for ``mget(missing="raise")``
            (``id`` is then the first of them).
    """

    def __init__(
        self, index: str | None, id: str | None, meta: ApiResponseMeta, body: Any, ids: Sequence[str] = ()
    ) -> None:
        self.ids = list(ids) if ids else [id] if id is not None else []
        what = f"document {id!r}" if len(self.ids) <= 1 else f"documents {', '.join(map(repr, self.ids))}"
        _init_answered(self, elasticsearch.NotFoundError, f"no {what} in index {index!r}", index, id, meta, body)


class IndexNotFoundError(_Answered, elasticsearch.NotFoundError):
    """The index itself does not exist (HTTP 404): a wrong name or prefix, or ``init()`` not run.

    Never reported as a missing document: an absent index is not empty data.
    """

    def __init__(self, index: str | None, id: str | None, meta: ApiResponseMeta, body: Any) -> None:
        what = f" (looking for document {id!r})" if id is not None else ""
        _init_answered(
            self, elasticsearch.NotFoundError, f"index {index!r} does not exist{what}", index, id, meta, body,
            known_type="index_not_found_exception",  # also when the answer had no body (a HEAD request)
        )


class DocumentReadError(_Answered, elasticsearch.ApiError):
    """Elasticsearch could not read one document of an ``mget`` (a shard failure, ...)."""

    def __init__(self, index: str | None, id: str | None, meta: ApiResponseMeta, body: Any) -> None:
        _init_answered(
            self, elasticsearch.ApiError, f"document {id!r} in index {index!r} could not be read", index, id, meta, body
        )


class AliasNotFoundError(_Answered, elasticsearch.NotFoundError):
    """An alias (or one of several named) does not exist on the index (HTTP 404)."""

    def __init__(self, index: str | None, alias: str, meta: ApiResponseMeta, body: Any) -> None:
        self.alias = alias
        _init_answered(
            self, elasticsearch.NotFoundError, f"alias {alias!r} not found on index {index!r}", index, None, meta, body
        )


class IndexBlockedError(_Answered, elasticsearch.AuthorizationException):
    """A write was refused because the index is write-blocked (HTTP 403 ``cluster_block_exception``).

    ``odm apply`` blocks writes on the old index for its final pass and swap, and ``adopt()``
    for its clone: retry after a backoff, with a document read again through the alias.
    After a migration the old index keeps its block, so a document loaded before the swap
    (``meta.index`` the old index) always fails here: read it again (docs/migrations.md).
    """

    def __init__(self, index: str | None, id: str | None, cause: elasticsearch.ApiError) -> None:
        what = f" (writing document {id!r})" if id is not None else ""
        _init_answered(
            self, elasticsearch.AuthorizationException, f"index {index!r} is write-blocked{what}",
            index, id, cause.meta, cause.body,
        )


@contextlib.contextmanager
def blocked_about(index: str, id: str | None) -> Iterator[None]:
    """Turn the client's 403 ``cluster_block_exception`` for a write into :class:`IndexBlockedError`."""
    try:
        yield
    except elasticsearch.AuthorizationException as error:
        if error_type(error.body) != "cluster_block_exception":
            raise
        raise IndexBlockedError(index, id, error) from error


def not_found(index: str | None, id: str | None, meta: ApiResponseMeta, body: Any) -> _Answered:
    """The odm error for a 404 about ``id`` in ``index``: the index or the document is missing."""
    if error_type(body) == "index_not_found_exception":
        return IndexNotFoundError(index, id, meta, body)
    return DocumentNotFoundError(index, id, meta, body)


@contextlib.contextmanager
def answered_about(index: str, id: str) -> Iterator[None]:
    """Turn the client's 409 and 404 about one stored document into odm's errors.

    Used by the writes of a stored document (update, delete, by instance or by id): 409 is
    a changed document, 404 a missing document or a missing index, 403 for a block a
    write-blocked index (:class:`IndexBlockedError`).
    """
    try:
        with blocked_about(index, id):
            yield
    except elasticsearch.ConflictError as error:
        raise VersionConflictError(index, id, error) from error
    except elasticsearch.NotFoundError as error:
        raise not_found(index, id, error.meta, error.body) from error


def conflict(index: str | None, id: str | None, cause: elasticsearch.ApiError, creating: bool) -> _Answered:
    """The odm error for a 409: an existing id for a create, else a changed document."""
    if creating:
        return DocumentExistsError(index, id, cause)
    return VersionConflictError(index, id, cause)


class ScrollLostError(OdmError, elasticsearch.ConnectionError):
    """A page of a scroll (``scan()``) got no answer: the scroll may have moved past it.

    A scroll request moves the scroll on when the node runs it, so sending it again after
    a lost answer could skip that page's hits without a word. odm ends the scan instead.
    ``iterate()`` (a point in time and ``search_after``) re-sends its pages safely.

    Attributes:
        index: the index (or indices) scanned.
        hits: how many hits the scan had yielded before.
        lost: the client's error of the page (also the ``__cause__``).
    """

    def __init__(self, index: str | None, hits: int, lost: BaseException) -> None:
        self.index, self.hits, self.lost = index, hits, lost
        super().__init__(
            f"scan() of index {index!r} stopped after {hits} hits: a scroll page got no answer "
            f"({type(lost).__name__}: {lost}) and the scroll may have moved past it, so odm does not send "
            "it again (its hits would be skipped). Start again, or use iterate() (a point in time), whose "
            "pages odm re-sends safely",
            errors=(lost,) if isinstance(lost, Exception) else (),
        )

    def __str__(self) -> str:  # the client's ConnectionError would print only its errors
        return str(self.message)


class OutcomeUnknownError(OdmError, elasticsearch.ConnectionError):
    """A write's answer was lost, and what odm's re-send met cannot tell whether it was applied.

    Raised when a write guarded by ``seq_no``/``primary_term`` got no answer (a connection
    error, a timeout), was sent again by odm, and the re-send met a conflict: its own first
    attempt moved the ``seq_no``, or another writer did. The stored document may hold this
    write or not: reload it and compare before writing again. Never a
    :class:`VersionConflictError` (the write may have been applied), and never raised for a
    conflict on a first attempt, which is a conflict.

    Also raised, with ``operation`` set, when an update or delete by query got no answer:
    odm never sends one again after a lost answer (running it twice is not running it once).

    A subclass of the client's ``ConnectionError``: an answer was lost, as for one.

    Attributes:
        index: the index written to.
        id: the document's id.
        attempts: how many times odm sent the write.
        lost: the error that ended the attempt whose answer was lost.
        met: the client's error the last attempt was answered with (also the ``__cause__``);
            ``None`` for a request odm does not send again after a lost answer.
        operation: for such a request (``"update_by_query"``, ``"delete_by_query"``), its name;
            its answer was lost and it was not sent again: it may have run, in part or whole.
            With ``met`` too, a change of an index re-sent after a lost answer (``"creation"``:
            the re-sent create met ``resource_already_exists``, maybe its own first attempt).
    """

    def __init__(
        self,
        index: str | None,
        id: str | None,
        attempts: int,
        lost: BaseException | None,
        met: BaseException | None,
        operation: str | None = None,
    ) -> None:
        self.index, self.id, self.attempts, self.lost, self.met = index, id, attempts, lost, met
        self.operation = operation
        what = f"{type(met).__name__}: {met}" if not isinstance(met, elasticsearch.ApiError) else f"{met.status_code} {met.message}"
        if operation is not None and met is not None:  # an idempotent change of an index, re-sent by odm
            super().__init__(
                f"the outcome of the {operation} of {index!r} is unknown: its answer was lost, odm sent it again "
                f"({attempts} attempts), and the re-send met {what}, which its own first attempt would also cause: "
                "check the index before doing it again",
                errors=tuple(e for e in (lost, met) if isinstance(e, Exception)),
            )
            return
        if operation is not None or met is None:
            lost_text = f"{type(lost).__name__}: {lost}" if lost is not None else "no answer"
            tasks = ", or list the node's tasks (GET _tasks?actions=*byquery)" if operation and "query" in operation else ""
            super().__init__(
                f"the outcome of the {operation or 'request'} on index {index!r} is unknown: its answer was lost "
                f"({lost_text}) after {attempts} attempt(s), so it may have run, in part or whole, or be running "
                "still. odm does not send it again (running it twice is not the same as once): check the "
                f"documents{tasks}, before running it again",
                errors=tuple(e for e in (lost,) if isinstance(e, Exception)),
            )
            return
        super().__init__(
            f"the outcome of the write of document {id!r} in index {index!r} is unknown: it may have been applied. "
            f"Its answer was lost, odm sent it again ({attempts} attempts), and the re-send met {what}, which "
            "its own first attempt would also cause: reload the document and compare before writing again",
            errors=tuple(e for e in (lost, met) if isinstance(e, Exception)),
        )

    def __str__(self) -> str:  # the client's ConnectionError would print only its errors
        return str(self.message)


# -- bulk ---------------------------------------------------------------------------------


class BulkItemError(OdmError):
    """Elasticsearch refused one item of a bulk request.

    Attributes:
        status: the item's HTTP status (409 conflict, 400 mapping error, 429 rejected, ...).
        type: Elasticsearch's error type, e.g. ``"version_conflict_engine_exception"``.
        reason: its explanation.
        index: the item's index.
        id: the item's id (None if Elasticsearch was to generate it).
        body: the item's ``error`` object as sent.
    """

    def __init__(self, status: int, index: str | None, id: str | None, body: Mapping[str, Any]) -> None:
        self.status = status
        self.index = index
        self.id = id
        self.body = dict(body)
        self.type = str(body.get("type", "unknown"))
        self.reason = str(body.get("reason", ""))
        super().__init__(f"{self.type} ({status}) for document {id!r} in index {index!r}: {self.reason}")


class BulkError(OdmError):
    """``raise_on_error=True`` and some inputs failed or were not attempted.

    Attributes:
        result: the whole ``BulkResult``, as it would have been returned.
    """

    def __init__(self, result: Any) -> None:
        self.result = result
        first = result.failed[0].error if result.failed else None
        detail = f"; first error: {first}" if first is not None else ""
        super().__init__(
            f"bulk write incomplete: {len(result.succeeded)} succeeded, {len(result.failed)} failed, "
            f"{len(result.not_attempted)} not attempted{detail}"
        )


# -- web services (odm.fastapi) -----------------------------------------------------------


class OptionalDependencyError(OdmError, ImportError):
    """An optional part of odm was imported without its extra installed.

    Example: ``import odm.fastapi`` without FastAPI: ``pip install 'odm-elasticsearch[fastapi]'``.
    """


class SettingsError(OdmError, ValueError):
    """Connection settings that cannot be used, from arguments or the environment.

    For example ``ODM_ES_TIMEOUT=soon``, a user name without a password, or both a
    password and an API key. The message names the setting, never a secret's value.
    """


class NodeUnavailableError(OdmError, ConnectionError):
    """Elasticsearch did not answer within the wait allowed at start-up.

    Attributes:
        url: the node's URL, with any password in it replaced by ``***``.
        waited: how long odm waited, in seconds.
    """

    def __init__(self, url: str, waited: float, last_error: str) -> None:
        self.url = redact_url(url)
        self.waited = waited
        super().__init__(
            f"Elasticsearch at {self.url} did not answer within {waited:g} s (last error: {redact(last_error)})"
        )


class CursorError(OdmError, ValueError):
    """A pagination cursor that cannot be used: malformed, tampered with, made elsewhere, or too old.

    A web service answers it with 400: the cursor came from the client.

    Attributes:
        reason: ``"malformed"``, ``"tampered"``, ``"foreign"`` (another query, sort or
            scope) or ``"expired"`` (older than ``max_age``).
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class InvalidETagError(OdmError, ValueError):
    """An ``If-Match`` header that is not ``*`` nor a list of entity tags (RFC 9110): a syntax error.

    A web service answers it with 400: the header came from the client. A well-formed
    ETag that cannot match (weak, not odm's, of another index) is a
    :class:`PreconditionFailedError` instead.
    """


class PreconditionFailedError(OdmError, ValueError):
    """``If-Match`` names no current version of the document: nothing was written.

    Its ETags are of an earlier version, of another index (the document was read before a
    migration moved it), weak (``W/"..."``, never equal under RFC 9110's strong comparison),
    or not odm's. A web service answers it with 412.

    Attributes:
        index: the concrete index the document is in now.
        id: the document's id.
    """

    def __init__(self, index: str | None, id: str | None, reason: str) -> None:
        self.index, self.id = index, id
        super().__init__(f"If-Match does not match document {id!r} in index {index!r}: {reason}")


class PreconditionRequiredError(OdmError, ValueError):
    """The write needs an ``If-Match`` header and the request had none; nothing was written.

    Raised by ``apply_if_match(..., required=True)``; a web service answers it with 428.

    Attributes:
        index: the document's index.
        id: the document's id.
    """

    def __init__(self, index: str | None, id: str | None) -> None:
        self.index, self.id = index, id
        super().__init__(f"a write of document {id!r} in index {index!r} needs If-Match (read it, then send its ETag)")


# -- migrations (odm.migrate) ---------------------------------------------------------------


class MigrationError(OdmError, RuntimeError):
    """A migration could not run or finish as asked; what was live stays live.

    Attributes:
        alias: the name users query (``Index.name``).
    """

    def __init__(self, alias: str, message: str) -> None:
        self.alias = alias
        super().__init__(f"migration of {alias!r}: {message}")


class MigrationLockedError(MigrationError):
    """Another process holds the migration lock of this alias (or this one lost it).

    Attributes:
        owner: the lock holder (``host:pid:uuid``).
        expires_at: when its lease ends unless renewed (seconds since the epoch).
    """

    def __init__(self, alias: str, owner: str, expires_at: float, message: str | None = None) -> None:
        self.owner = owner
        self.expires_at = expires_at
        until = datetime.fromtimestamp(expires_at, timezone.utc).isoformat(timespec="seconds")
        super().__init__(alias, message or f"the lock is held by {owner} (its lease runs until {until})")


class MigrationStateError(MigrationError):
    """The migration state does not allow the call: an interrupted migration to resume first,
    nothing to roll back, an index that must be adopted first, another transform than the
    interrupted run's."""


class MigrationFailedError(MigrationError):
    """A migration or rollback stopped before its alias swap: documents were rejected, or the
    copy did not verify. The alias was not moved and the live index is writable again.

    Attributes:
        result: the :class:`~odm.migrate.MigrationResult` so far (counts, rejected ids).
    """

    def __init__(self, alias: str, message: str, result: Any) -> None:
        self.result = result
        super().__init__(alias, message)
