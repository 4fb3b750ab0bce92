"""``install_exception_handlers``: odm's errors as HTTP answers.

- ``DocumentNotFoundError``: 404.
- ``VersionConflictError``: 412 if the request had ``If-Match``, else 409.
- ``PreconditionFailedError`` (``If-Match`` names no current version: stale, of another
  index, weak): 412; ``PreconditionRequiredError`` (``If-Match`` required, missing): 428.
- ``DocumentExistsError``: 409.
- ``DocumentValidationError``: 422, pydantic's errors without their input.
- ``InvalidIdError``, ``InvalidIndexNameError``, ``CursorError``, ``InvalidETagError``: 400.
- ``TenantError``: 400 (a missing or malformed tenant, a body of another tenant), 409 for
  a client-chosen id another tenant holds. (``UnscopedAccessError`` is a bug of the
  service, a forgotten scope: 500.)
- ``IndexNotFoundError``: 500, a deployment error, never reported as a missing document.
- ``HitValidationError``: 500 naming the id: stored data the model refuses.
- ``IndexBlockedError`` (a write to an index a migration or ``adopt()`` write-blocked
  for its short final pass): 503 with ``Retry-After``.
- ``elasticsearch.ConnectionError``, ``ConnectionTimeout``, and an ``ApiError`` of
  status 429 or 503: 503 with ``Retry-After``. Other ``ApiError`` s are left alone (500).

Bodies are FastAPI's shape, ``{"detail": ...}``. Client errors (4xx) say what was
wrong with the request; server errors (5xx) say what kind of failure it was and are
logged in full (logger ``odm.fastapi``) without putting index names or stored data in
the answer. Validation errors leave out each error's ``input``: for a whole-document
check it is the stored document, fields the client never sent included.
"""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout
from fastapi.encoders import jsonable_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._core.redaction import redact
from ..errors import (
    CursorError,
    DocumentExistsError,
    DocumentNotFoundError,
    DocumentValidationError,
    HitValidationError,
    IndexBlockedError,
    IndexNotFoundError,
    InvalidETagError,
    InvalidIdError,
    InvalidIndexNameError,
    PreconditionFailedError,
    PreconditionRequiredError,
    TenantError,
    VersionConflictError,
)

__all__ = ["install_exception_handlers", "validation_errors"]

logger = logging.getLogger("odm.fastapi")

_UNAVAILABLE_STATUSES = frozenset({429, 503})


def install_exception_handlers(app: Starlette, *, retry_after: int = 5) -> None:
    """Answer odm's and the Elasticsearch client's errors with the statuses in this module's table.

    Args:
        app: a FastAPI (or Starlette) application.
        retry_after: the ``Retry-After`` seconds of a 503.
    """

    async def blocked(request: Request, exc: Exception) -> Response:
        # A write block is the short final pass of a migration (or an adopt): the write will
        # succeed on retry, through the alias, once it is over. Not a server error.
        logger.warning("write blocked for %s %s: %s", request.method, request.url.path, redact(str(exc)))
        return JSONResponse(
            {"detail": "the resource is briefly read-only (its index is being migrated): retry later"},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    async def unavailable(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ApiError) and exc.meta.status not in _UNAVAILABLE_STATUSES:
            raise exc  # any other answer of Elasticsearch is a server error, as without this handler
        logger.warning("Elasticsearch unavailable for %s %s: %s", request.method, request.url.path, redact(str(exc)))
        return JSONResponse(
            {"detail": "the search service is temporarily unavailable: retry later"},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    handlers: dict[type[Exception], Any] = {
        DocumentNotFoundError: _not_found,
        VersionConflictError: _changed,
        PreconditionFailedError: _precondition_failed,
        PreconditionRequiredError: _precondition_required,
        DocumentExistsError: _exists,
        DocumentValidationError: _invalid_document,
        InvalidIdError: _bad_request,
        InvalidIndexNameError: _bad_request,
        CursorError: _bad_request,
        InvalidETagError: _bad_request,
        TenantError: _tenant,
        IndexNotFoundError: _no_index,
        HitValidationError: _unreadable,
        IndexBlockedError: blocked,
        ConnectionError: unavailable,
        ConnectionTimeout: unavailable,
        ApiError: unavailable,
    }
    for error, handler in handlers.items():
        app.add_exception_handler(error, handler)


def validation_errors(error: DocumentValidationError) -> list[dict[str, Any]]:
    """The errors of a ``DocumentValidationError`` as JSON-safe dicts, located under ``body``.

    As FastAPI reports a request body: ``type``, ``loc``, ``msg`` and ``ctx``, but no
    ``input`` (it may hold the whole stored document), and every ``ctx`` value made
    JSON-safe (a ``Decimal`` bound, the exception a validator raised).
    """
    if error.errors is None:  # the serializer refused a value: one message says which
        return [{"type": "value_error", "loc": ["body"], "msg": str(error)}]
    safe = []
    for item in error.errors.errors(include_url=False, include_input=False):
        entry: dict[str, Any] = {"type": item["type"], "loc": ["body", *item["loc"]], "msg": item["msg"]}
        if "ctx" in item:
            entry["ctx"] = {key: _json_safe(value) for key, value in item["ctx"].items()}
        safe.append(entry)
    return safe


def _json_safe(value: Any) -> Any:
    if isinstance(value, BaseException):
        return str(value)
    try:
        return jsonable_encoder(value)
    except Exception:  # an object jsonable_encoder cannot take apart: its text will do
        return str(value)


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DocumentNotFoundError)
    return JSONResponse({"detail": f"no document {exc.id!r}"}, status_code=404)


async def _changed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VersionConflictError)
    if "if-match" in request.headers:
        return JSONResponse(
            {"detail": f"document {exc.id!r} changed since the version in If-Match: read it again"},
            status_code=412,
        )
    return JSONResponse(
        {"detail": f"document {exc.id!r} was changed by another request meanwhile: read it again and retry"},
        status_code=409,
    )


async def _precondition_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PreconditionFailedError)
    return JSONResponse(
        {"detail": f"document {exc.id!r} is not at the version in If-Match (changed since, or moved by a "
                   "migration, or a weak ETag): read it again"},
        status_code=412,
    )


async def _precondition_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PreconditionRequiredError)
    return JSONResponse(
        {"detail": f"a write of document {exc.id!r} needs If-Match: read it and send its ETag"}, status_code=428
    )


async def _exists(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DocumentExistsError)
    return JSONResponse({"detail": f"document {exc.id!r} already exists"}, status_code=409)


async def _invalid_document(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DocumentValidationError)
    return JSONResponse({"detail": validation_errors(exc)}, status_code=422)


async def _tenant(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TenantError)
    if exc.reason == "id_taken":
        return JSONResponse({"detail": f"document {exc.id!r} already exists"}, status_code=409)
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def _no_index(request: Request, exc: Exception) -> Response:
    logger.error("index missing for %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    detail = (
        "server misconfigured: the index behind this resource does not exist (a deployment error: "
        "init() not run, or a wrong index prefix), not a missing document"
    )
    return JSONResponse({"detail": detail}, status_code=500)


async def _unreadable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HitValidationError)
    logger.error("stored document unreadable for %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    return JSONResponse(
        {"detail": f"stored document {exc.id!r} does not match the server's model: see the server log"},
        status_code=500,
    )
