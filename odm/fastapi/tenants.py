"""The tenant of a request, as a dependency: a :class:`~odm.TenantScope` for each request.

``tenant_scope(Ticket)`` reads the tenant from a header (``X-Tenant`` by default);
``tenant_scope(Ticket, tenant_of=...)`` asks a callable the app gives (the tenant of the
signed-in user, say), sync or async, which receives the request. The endpoint then works
through the scope only: reads see that tenant's documents, writes stamp it, cursors of
:func:`~odm.fastapi.paginate` over its searches are bound to it (docs/tenancy.md)::

    Tickets = Annotated[TenantScope[Ticket], Depends(tenant_scope(Ticket))]

    @app.get("/tickets/{ticket_id}")
    async def read(ticket_id: str, tickets: Tickets) -> TicketPublic:
        return to_public(await tickets.get(ticket_id), TicketPublic)

A missing or malformed tenant is answered 400 (with :func:`install_exception_handlers`);
it never widens to every tenant.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency's annotations at run
# time, and its header name is this call's, not a module global.
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Header, Request

from ..document import AsyncDocument
from ..errors import TenantError
from ..tenancy import TenantScope

__all__ = ["tenant_scope"]

D = TypeVar("D", bound=AsyncDocument)

TenantOf = Callable[[Request], "str | None | Awaitable[str | None]"]


def tenant_scope(
    document: type[D], *, header: str = "X-Tenant", tenant_of: TenantOf | None = None
) -> Callable[..., Awaitable[TenantScope[D]]]:
    """A FastAPI dependency giving the request's :class:`~odm.TenantScope` of ``document``.

    Args:
        header: the header naming the tenant, when no ``tenant_of`` is given. Behind a
            proxy that sets it, make sure clients cannot (a client-set header names any tenant).
        tenant_of: the app's own answer: ``request -> tenant`` (or an awaitable of it), from
            the signed-in user or the host name, for example; ``None`` is refused.

    Raises:
        ArgumentError: ``document`` is not tenant-scoped (when the dependency is made).
    """
    TenantScope(document, None, unscoped=True)  # refuses a class without Index.tenant_field, at start-up
    if tenant_of is not None:
        resolve = tenant_of

        async def from_app(request: Request) -> TenantScope[D]:
            found = resolve(request)
            tenant = await found if inspect.isawaitable(found) else found
            if tenant is None:
                raise TenantError("this request names no tenant", reason="tenant")
            return document.for_tenant(tenant)

        return from_app

    async def from_header(value: Annotated[str | None, Header(alias=header, include_in_schema=True)] = None) -> TenantScope[D]:
        if value is None:
            raise TenantError(f"the {header} header names the tenant; this request has none", reason="tenant")
        return document.for_tenant(value)

    return from_header
