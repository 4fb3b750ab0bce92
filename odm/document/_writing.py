"""Writing documents: the bodies of ``AsyncDocument.save``, ``update``, ``delete`` and their by-id forms.

The class in ``odm.document`` keeps each method's signature and docstring (the signatures
also name the options no field may be named like); what each write sends, how often it
reached the node, and how Elasticsearch's answer becomes the document's state or odm's
error lives here. Encoding is ``_core.writes``'; re-sending is ``_sending``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from elasticsearch import ApiError, AsyncElasticsearch, ConflictError, NotFoundError

from .._core.hits import reader_for
from .._core.id_field import take_id
from .._core.names import check_id
from .._core.retry import Attempts, RetryPolicy
from .._core.sentinel import NOT_GIVEN, NotGiven, given
from .._core.tenancy import admitted, check_values, mark, stamp, view_of_document
from .._core.vectors import reads_vectors, with_vectors
from .._core.writes import (
    DeleteResult,
    Script,
    apply_values,
    concurrency_tokens,
    encode_source,
    encode_write,
    object_fields,
    record_delete,
    record_write,
    routing_of,
    same_source,
    stored_id,
    update_body,
    update_precondition,
    update_values,
    validate_fields,
    validate_update,
)
from .._sending import delete_document, index_document, send, send_write
from ..connections import UsingType
from ..errors import (
    ArgumentError,
    DocumentNotFoundError,
    DocumentStateError,
    OutcomeUnknownError,
    answered_about,
    blocked_about,
    conflict,
    not_found,
)
from ..tenancy import claim_for, claim_to_save, routed

if TYPE_CHECKING:
    from . import AsyncDocument

D = TypeVar("D", bound="AsyncDocument")

Refresh = bool | Literal["wait_for", "true", "false"]


async def save(
    document: AsyncDocument,
    index: str | None,
    using: UsingType | None,
    refresh: Refresh | NotGiven,
    routing: str | NotGiven,
    op_type: Literal["index", "create"] | NotGiven,
    if_unchanged: bool | NotGiven,
    pipeline: str | NotGiven,
    retry: RetryPolicy | None,
) -> str:
    """``AsyncDocument.save``: index the whole document; a create's lost answer is confirmed by content."""
    view = view_of_document(document, "save()")
    meta = document.meta
    if type(document).__odm__.data_stream and index is None:  # appended to the stream, never changed there
        if meta.index is not None or meta.seq_no is not None:
            raise _append_only(type(document), "save() of a stored document", meta.id)
        if op_type not in (NOT_GIVEN, "create"):
            raise ArgumentError(f"{type(document).__name__} is stored in a data stream, which takes op_type='create' only")
        op_type = "create"
    name = document._target(index)
    if view is not None:
        stamp(document, view, name)
    body, doc_id, new = encode_write(document, meta, name)
    route = routing_of(meta, routed(view, routing))
    creating = op_type == "create" or (new and op_type is NOT_GIVEN)  # nobody else holds an id odm just made
    params = given(refresh=refresh, op_type=op_type, pipeline=pipeline)
    if route is not None:
        params["routing"] = route
    if not creating:
        params.update(concurrency_tokens(meta, name, if_unchanged))
    params.update(_alias_only(type(document), name))
    client = type(document)._client(using)
    attempts = Attempts()
    if view is not None and view.tenant is not None and doc_id is not None and not creating:
        creating = await claim_to_save(view, client, params, name, doc_id, route)
    try:
        with blocked_about(name, doc_id):
            response = await send(
                client, lambda quiet: index_document(quiet, name, doc_id, body, params, creating), retry, attempts
            )
    except NotFoundError as error:  # only with require_alias: the alias does not exist, nothing was created
        raise not_found(name, doc_id, error.meta, error.body) from error
    except ConflictError as error:
        if not attempts.resent_after_lost_answer:  # a first attempt's conflict is a conflict
            raise conflict(name, doc_id, error, creating) from error
        if not creating:  # guarded by seq_no: its own first attempt or another writer, no telling
            raise OutcomeUnknownError(name, doc_id, attempts.sent, attempts.lost, error) from error
        # odm's re-send of a create met a document: its own first attempt if the content is the
        # one sent. (Only a create can be confirmed by content: a write guarded by seq_no that
        # finds the same values may have lost a race: two increments from 5 both write 6.)
        stored = await _read_back(client, _conflict_index(error, name), doc_id, route, retry) if doc_id else None
        if stored is None or not same_source(body, stored.get("_source"), type(document)):
            raise conflict(name, doc_id, error, creating) from error
        record_write(meta, stored, name, route)  # this very call wrote it: its answer was lost
        mark(document, view)
        return "created"
    except ApiError as error:  # a 429 or 503 once the policy gave up: after a lost answer, maybe applied
        if attempts.resent_after_lost_answer:
            raise OutcomeUnknownError(name, doc_id, attempts.sent, attempts.lost, error) from error
        raise
    record_write(meta, response.body, name, route)
    mark(document, view)
    result = str(response["result"])
    # a document odm gave its id to is new: "updated" is its re-send meeting its own first attempt
    return "created" if new and result == "updated" and attempts.resent_after_lost_answer else result


async def update(
    document: D,
    values: Mapping[str, Any] | None,
    index: str | None,
    using: UsingType | None,
    refresh: Refresh | NotGiven,
    if_unchanged: bool | NotGiven,
    retry_on_conflict: int | None | NotGiven,
    script: Script | None,
    params: Mapping[str, Any] | None,
    upsert: bool,
    retry: RetryPolicy | None,
    fields: dict[str, Any],
) -> str:
    """``AsyncDocument.update``: a partial or scripted update; the document then holds what the index holds."""
    view = view_of_document(document, "update()")
    cls, meta = type(document), document.meta
    if cls.__odm__.data_stream and index is None:
        raise _append_only(cls, "update()", meta.id)
    name = document._target(index)
    take_id(document, meta, name)  # a class with an id field: its value
    doc_id = stored_id(meta, name, "update()")
    fields = update_values(values, fields, script is not None, name, doc_id)
    if view is not None:
        check_values(view, fields, name, doc_id)
        stamp(document, view, name)
    upserted = encode_source(document, meta, name) if upsert and script is not None else None
    scripted = update_body(fields, script, params, upserted, name, doc_id)
    if upsert and scripted is None:
        raise ArgumentError(f"upsert=True goes with script= (document {doc_id!r}, index {name!r}); save() writes a whole document")
    values, partial = validate_update(document, fields, name, doc_id) if scripted is None else ({}, {})
    request = given(refresh=refresh)
    route = routing_of(meta, routed(view, NOT_GIVEN))
    if route is not None:
        request["routing"] = route
    retries = None if retry_on_conflict is NOT_GIVEN else retry_on_conflict
    request.update(update_precondition(meta, name, if_unchanged, retries))
    request.update(_alias_only(cls, name))
    if view is not None and view.tenant is not None:
        await claim_for(view, cls._client(using), request, name, doc_id, route, absent_ok=upsert and script is not None)
    objects = object_fields(partial)
    if scripted is not None:
        request.update(scripted, source=with_vectors(True) if reads_vectors(cls) else True)
    else:
        request["doc"] = partial
        if objects:
            request["source"] = objects  # merged in the index: read back what it holds
    with answered_about(name, doc_id):
        response = await send_write(
            cls._client(using), lambda client: client.update(index=name, id=doc_id, **request), retry, name, doc_id,
            idempotent=scripted is None,
        )
    result = str(response["result"])
    stored = response.body.get("get", {}).get("_source")
    if scripted is not None and result == "deleted":
        record_delete(meta)
        return result
    if scripted is not None and stored is not None:
        fresh = reader_for(cls).read({"_index": response.body.get("_index", name), "_id": doc_id, "_source": stored})
        values = {key: value for key, value in fresh.__dict__.items() if key != "meta"}
        meta.unknown_fields = fresh.meta.unknown_fields
    elif objects:
        values.update(reader_for(cls).read_fields(stored or {}, name, doc_id))
    apply_values(document, values)
    record_write(meta, response.body, name)
    mark(document, view)
    return result


async def delete(
    document: AsyncDocument,
    index: str | None,
    using: UsingType | None,
    refresh: Refresh | NotGiven,
    if_unchanged: bool | NotGiven,
    retry: RetryPolicy | None,
) -> DeleteResult:
    """``AsyncDocument.delete``: delete the stored document by ``meta.id``."""
    view = view_of_document(document, "delete()")
    meta = document.meta
    if type(document).__odm__.data_stream and index is None:
        raise _append_only(type(document), "delete()", meta.id)
    name = document._target(index)
    take_id(document, meta, name)
    doc_id = stored_id(meta, name, "delete()")
    params = given(refresh=refresh)
    route = routing_of(meta, routed(view, NOT_GIVEN))
    if route is not None:
        params["routing"] = route
    params.update(concurrency_tokens(meta, name, if_unchanged))
    if view is not None and view.tenant is not None:
        await claim_for(view, type(document)._client(using), params, name, doc_id, route)
    deleted = await _delete(type(document)._client(using), name, doc_id, params, retry)
    record_delete(meta)
    return deleted


async def update_by_id(
    cls: type[D],
    id: str | int,
    values: Mapping[str, Any] | None,
    index: str | None,
    using: UsingType | None,
    refresh: Refresh | NotGiven,
    routing: str | NotGiven,
    retry_on_conflict: int | None | NotGiven,
    script: Script | None,
    params: Mapping[str, Any] | None,
    upsert: D | None,
    retry: RetryPolicy | None,
    fields: dict[str, Any],
) -> str:
    """``AsyncDocument.update_by_id``: a partial or scripted update of a stored document, not loaded first."""
    view = admitted(cls, "update_by_id()")
    if cls.__odm__.data_stream and index is None:
        raise _append_only(cls, "update_by_id()", str(id))
    name, doc_id = cls._write_index(index), check_id(id)
    fields = update_values(values, fields, script is not None, name, doc_id)
    if view is not None:
        check_values(view, fields, name, doc_id)
        if upsert is not None:
            stamp(upsert, view, name)
    upserted = encode_source(upsert, upsert.meta, name) if upsert is not None else None
    scripted = update_body(fields, script, params, upserted, name, doc_id)
    retries = None if retry_on_conflict is NOT_GIVEN else retry_on_conflict
    request = given(refresh=refresh, routing=routed(view, routing))
    request.update(update_precondition(None, name, NOT_GIVEN, retries))
    request.update(_alias_only(cls, name))
    request.update(scripted if scripted is not None else {"doc": validate_fields(cls, fields, name, doc_id)})
    if view is not None and view.tenant is not None:
        route = request.get("routing")
        await claim_for(view, cls._client(using), request, name, doc_id, route, absent_ok=upsert is not None)
    with answered_about(name, doc_id):
        response = await send_write(
            cls._client(using), lambda client: client.update(index=name, id=doc_id, **request), retry, name, doc_id,
            idempotent=scripted is None,
        )
    return str(response["result"])


async def delete_by_id(
    cls: type[AsyncDocument],
    id: str | int,
    index: str | None,
    using: UsingType | None,
    refresh: Refresh | NotGiven,
    routing: str | NotGiven,
    retry: RetryPolicy | None,
) -> DeleteResult:
    """``AsyncDocument.delete_by_id``: delete a stored document by id, not loaded first."""
    view = admitted(cls, "delete_by_id()")
    if cls.__odm__.data_stream and index is None:
        raise _append_only(cls, "delete_by_id()", str(id))
    name, doc_id = cls._write_index(index), check_id(id)
    request = given(refresh=refresh, routing=routed(view, routing))
    if view is not None and view.tenant is not None:
        await claim_for(view, cls._client(using), request, name, doc_id, request.get("routing"))
    return await _delete(cls._client(using), name, doc_id, request, retry)


def _alias_only(cls: type[AsyncDocument], name: str) -> dict[str, bool]:
    """``require_alias`` for a write of a versioned class to its alias: when the alias does not exist
    (never ``init()``-ed, or deleted), Elasticsearch answers 404 instead of creating an index of
    that name, which would take the alias's name for good. Other names are sent as they are
    (Elasticsearch creates a missing concrete index on a write: ``docs/crud.md``)."""
    options = cls.__odm__
    return {"require_alias": True} if options.versioned and name == options.name else {}


def _append_only(cls: type[AsyncDocument], operation: str, doc_id: str | None) -> DocumentStateError:
    """The refusal of a write that would change a document stored in a data stream."""
    stream = cls.__odm__.name
    return DocumentStateError(
        f"{cls.__name__} is stored in the data stream {stream!r}, which is append-only: {operation} would change "
        f"a stored document. Name its backing index (index=doc.meta.index, a '.ds-{stream}-...' index) to write "
        "there, or use update_by_query()", stream, doc_id,
    )


async def _read_back(
    client: AsyncElasticsearch, index: str, doc_id: str, routing: str | None, retry: RetryPolicy | None
) -> Mapping[str, Any] | None:
    """The stored document after odm's re-send of a create was answered 409, or ``None`` if there is none.

    A create whose first attempt was applied (its answer lost) meets its own document: the
    same content means it succeeded. It asks for vectors, whatever the class declares: the
    stored document may be another program's, with a vector that must not go unseen.
    """
    try:
        answer = await send(
            client,
            lambda quiet: quiet.get(index=index, id=doc_id, routing=routing, source_exclude_vectors=False),
            retry,
        )
    except NotFoundError:
        return None
    body: Mapping[str, Any] = answer.body
    return body


def _conflict_index(error: ConflictError, index: str) -> str:
    """The concrete index a 409 names (a data stream's backing index), else ``index``."""
    found = error.body.get("error", {}).get("index") if isinstance(error.body, Mapping) else None
    return found if isinstance(found, str) and found else index


async def _delete(
    client: AsyncElasticsearch, index: str, doc_id: str, params: Mapping[str, Any], retry: RetryPolicy | None
) -> DeleteResult:
    """Send a delete under odm's retries; a 404 met by odm's re-send after a lost answer is a delete confirmed by absence."""
    attempts = Attempts()
    try:
        with answered_about(index, doc_id):
            response = await send_write(
                client, lambda quiet: delete_document(quiet, index, doc_id, params), retry, index, doc_id, attempts
            )
    except DocumentNotFoundError:
        if not attempts.resent_after_lost_answer:
            raise
        return DeleteResult(index, doc_id, None, confirmed=True)  # absent either way: its first attempt, or before
    return DeleteResult(response.body.get("_index", index), doc_id, response.body.get("_version"))
