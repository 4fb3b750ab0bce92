"""FastAPI integration, an optional extra (``pip install 'odm-elasticsearch[fastapi]'``).

Above odm's core: it imports ``odm`` freely, and nothing in ``odm`` imports it, so the
core never depends on FastAPI. What it gives a service (``docs/fastapi.md``):

- :func:`odm_lifespan` and :class:`OdmSettings`: connect at start-up (waiting a bounded
  time for the node), ``init()`` the document classes, close at shutdown.
- :func:`create_schema`, :func:`update_schema`, :func:`public_schema`,
  :func:`to_public`, :func:`new_document`, :func:`page_schema`: request and response
  schemas derived from a document class, none of which lets a client set ``meta``.
- :func:`install_exception_handlers`: odm's errors as 404, 409/412, 422, 400, 500, 503.
- :func:`etag` and :func:`apply_if_match`: ``ETag``/``If-Match`` on top of
  ``seq_no``/``primary_term``.
- :func:`paginate` and :class:`Page`: stateless, signed ``search_after`` cursors.
- :func:`search_params`: typed query parameters as filters, and a whitelisted sort.
- :func:`tenant_scope`: the request's tenant (a header, or the app's callable) as a
  :class:`~odm.TenantScope` dependency (docs/tenancy.md).
"""

from __future__ import annotations

import importlib.util

from .._core.redaction import redact_url
from .._core.settings import OdmSettings
from ..errors import OptionalDependencyError

if importlib.util.find_spec("fastapi") is None:  # say which extra, not just "No module named fastapi"
    raise OptionalDependencyError("odm.fastapi needs FastAPI: pip install 'odm-elasticsearch[fastapi]'")

from .etags import apply_if_match, etag  # noqa: E402
from .handlers import install_exception_handlers, validation_errors  # noqa: E402
from .lifespan import StartupStep, odm_lifespan, wait_for_node  # noqa: E402
from .pagination import Page, paginate  # noqa: E402
from .query import SearchParams, search_params  # noqa: E402
from .schemas import create_schema, new_document, page_schema, public_schema, to_public, update_schema  # noqa: E402
from .tenants import tenant_scope  # noqa: E402

__all__ = [
    "OdmSettings",
    "Page",
    "SearchParams",
    "StartupStep",
    "apply_if_match",
    "create_schema",
    "etag",
    "install_exception_handlers",
    "new_document",
    "odm_lifespan",
    "page_schema",
    "paginate",
    "public_schema",
    "redact_url",
    "search_params",
    "tenant_scope",
    "to_public",
    "update_schema",
    "validation_errors",
    "wait_for_node",
]
