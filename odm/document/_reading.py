"""Reading documents by id: the bodies of ``AsyncDocument.get``, ``mget`` and ``exists``.

The class in ``odm.document`` keeps each method's signature and docstring (what users and
mypy see); what the call sends and how the answer becomes documents or odm's errors lives
here, so the class module stays a readable list of operations. Decoding a hit is
``_core.hits``'; whose document a tenant may see is ``_core.tenancy``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from elastic_transport import ApiResponseMeta
from elasticsearch import NotFoundError

from .._core.hits import reader_for
from .._core.names import check_id
from .._core.retry import RetryPolicy
from .._core.sentinel import NOT_GIVEN, NotGiven, given
from .._core.tenancy import admit, admitted, hide_foreign, mark, owns
from .._core.vectors import is_whole_source, reads_vectors, source_param
from .._sending import send
from ..connections import UsingType
from ..errors import ArgumentError, DocumentNotFoundError, DocumentReadError, IndexNotFoundError, error_type, not_found
from ..search._mget import send_mget
from ..tenancy import routed

if TYPE_CHECKING:
    from . import AsyncDocument

D = TypeVar("D", bound="AsyncDocument")

_MISSING = ("none", "raise", "skip")


async def get(
    cls: type[D],
    id: str | int,
    index: str | None,
    using: UsingType | None,
    routing: str | NotGiven,
    _source: bool | str | Sequence[str] | NotGiven,
    retry: RetryPolicy | None,
) -> D:
    """``AsyncDocument.get``: one document, validated; a missing index is never a missing document."""
    view = admitted(cls, "get()")
    name, doc_id = cls.index_name(index), check_id(id)
    params = given(routing=routed(view, routing))
    if reads_vectors(cls):  # Elasticsearch 9 leaves them out of _source: saved back, they would be lost
        params["source_exclude_vectors"] = False
    source = None if _source is NOT_GIVEN else source_param(_source, "get")
    if source is not None:
        params["source"] = source
    try:
        raw = await send(cls._client(using), lambda client: client.get(index=name, id=doc_id, **params), retry)
    except NotFoundError as error:
        raise not_found(name, doc_id, error.meta, error.body) from error
    body = raw.body
    if not (isinstance(body, Mapping) and body.get("found") is True):  # an ignored 404 or error body
        raise not_found(name, doc_id, raw.meta, body)
    if view is not None and not owns(view, body.get("_source")):  # answered as a missing one
        raise not_found(name, doc_id, dataclasses.replace(raw.meta, status=404), hide_foreign(view, body))
    document = reader_for(cls).read(body, partial=not is_whole_source(source))
    mark(document, view)
    return document


async def mget(
    cls: type[D],
    ids: Iterable[str | int],
    index: str | None,
    using: UsingType | None,
    missing: Literal["none", "raise", "skip"],
    _source: bool | str | Sequence[str] | NotGiven,
    retry: RetryPolicy | None,
) -> list[D | None] | list[D]:
    """``AsyncDocument.mget``: many documents in one request, in the order asked."""
    if missing not in _MISSING:
        raise ArgumentError(f"mget(missing=...) takes one of {', '.join(map(repr, _MISSING))}, not {missing!r}")
    view = admitted(cls, "mget()")
    name, doc_ids = cls.index_name(index), [check_id(i) for i in ids]
    source = None if _source is NOT_GIVEN else source_param(_source, "mget")
    if not doc_ids:
        return []
    try:
        vectors = reads_vectors(cls)
        route = view.route if view is not None else None
        raw = await send(
            cls._client(using),
            lambda client: send_mget(client, index=name, ids=doc_ids, vectors=vectors, source=source, routing=route),
            retry,
        )
    except NotFoundError as error:
        raise not_found(name, None, error.meta, error.body) from error
    if not isinstance(raw.body, Mapping) or "docs" not in raw.body:  # an ignored error status
        raise not_found(name, None, raw.meta, raw.body)
    reader = reader_for(cls)
    docs = [hide_foreign(view, doc) for doc in raw.body["docs"]]
    partial = not is_whole_source(source)
    found = [_found(reader, doc, name, raw.meta, partial) for doc in docs]  # raises a document's read error first
    for document in found:
        mark(document, view)
    if missing == "none":
        return found
    absent = [doc for doc, document in zip(docs, found) if document is None]
    if absent and missing == "raise":
        ids_missing = [str(doc.get("_id")) for doc in absent]
        answer = dataclasses.replace(raw.meta, status=404)
        raise DocumentNotFoundError(name, ids_missing[0], answer, {"docs": absent}, ids=ids_missing)
    return [document for document in found if document is not None]


async def exists(
    cls: type[D], id: str | int, index: str | None, using: UsingType | None, routing: str | NotGiven
) -> bool:
    """``AsyncDocument.exists``: whether the document exists; a missing index is an error."""
    view = admitted(cls, "exists()")
    if view is not None and view.tenant is not None:  # whose document it is needs its source
        with admit(cls, view):
            return await cls.get_or_none(id, index=index, using=using, routing=routing) is not None
    name, doc_id = cls.index_name(index), check_id(id)
    client = cls._client(using)
    answer = await send(client, lambda quiet: quiet.exists(index=name, id=doc_id, **given(routing=routing)))
    if answer:
        return True
    if not await client.indices.exists(index=name):  # HEAD answers 404 for both; tell them apart
        raise IndexNotFoundError(name, doc_id, answer.meta, None)
    return False


def _found(reader: Any, doc: Mapping[str, Any], index: str, meta: ApiResponseMeta, partial: bool) -> Any:
    """One ``docs`` entry of an mget answer: the document, ``None`` if not found, or its error raised."""
    if doc.get("found") is True:
        return reader.read(doc, partial=partial)
    if "error" in doc:
        body = {"error": doc["error"]}
        if error_type(body) == "index_not_found_exception":
            raise IndexNotFoundError(doc.get("_index", index), doc.get("_id"), meta, body)
        raise DocumentReadError(doc.get("_index", index), doc.get("_id"), meta, body)
    return None
