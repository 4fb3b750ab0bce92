"""A multi-tenant ticket service: one shared index, the tenant from a header, every operation scoped."""

import os
import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel, Field

from odm import AsyncDocument, Keyword, TenantScope, Text, UnscopedAccessError
from odm.fastapi import (
    create_schema,
    install_exception_handlers,
    new_document,
    odm_lifespan,
    page_schema,
    paginate,
    public_schema,
    tenant_scope,
    to_public,
    update_schema,
)

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")
CURSOR_SECRET = os.environ.get("CURSOR_SECRET") or secrets.token_hex(32)


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None  # stamped by the scope
    slug: Annotated[str, Keyword()]  # unique: the pagination tiebreaker
    title: Annotated[str, Text()] = Field(min_length=1)
    status: Annotated[str, Keyword()] = "open"
    views: int = 0  # a counter: the server's
    created_at: datetime | None = None  # the server's

    class Index:
        name = PREFIX + "tickets"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"  # every operation needs a tenant (or unscoped(), by name)
        server_owned = ("views", "created_at")  # shown to clients, never taken from them


if TYPE_CHECKING:  # mypy cannot see classes made by create_model
    TicketCreate = BaseModel
    TicketUpdate = BaseModel
else:
    TicketCreate = create_schema(Ticket)  # slug, title, status: no tenant, views, created_at
    TicketUpdate = update_schema(Ticket, exclude={"slug"})  # title, status
TicketPublic = public_schema(Ticket)  # every field, tenant and counters included, and "id"
TicketPage = page_schema(TicketPublic)

# The tenant comes from a header here; tenant_scope(Ticket, tenant_of=...) takes it from the app
# (the signed-in user's organisation, say) instead.
Tickets = Annotated[TenantScope[Ticket], Depends(tenant_scope(Ticket, header="X-Tenant"))]

app = FastAPI(lifespan=odm_lifespan(Ticket))
install_exception_handlers(app)


@app.post("/tickets", status_code=201, response_model=TicketPublic)
async def create_ticket(body: TicketCreate, tickets: Tickets) -> Any:
    ticket = new_document(Ticket, body, created_at=datetime.now(timezone.utc))
    await tickets.save(ticket, refresh="wait_for")  # tenant stamped from the scope
    return to_public(ticket)


@app.get("/tickets/{ticket_id}", response_model=TicketPublic)
async def read_ticket(ticket_id: str, tickets: Tickets) -> Any:
    return to_public(await tickets.get(ticket_id))  # another tenant's: 404, as a missing one


@app.patch("/tickets/{ticket_id}", response_model=TicketPublic)
async def update_ticket(ticket_id: str, body: TicketUpdate, tickets: Tickets) -> Any:
    ticket = await tickets.get(ticket_id)
    await ticket.update(body.model_dump(exclude_unset=True), refresh="wait_for")  # in the ticket's scope
    return to_public(ticket)


@app.get("/tickets", response_model=TicketPage)
async def list_tickets(tickets: Tickets, cursor: str | None = None, size: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
    search = tickets.search().sort("slug")
    page = await paginate(search, cursor, size=size, secret=CURSOR_SECRET, tiebreaker="slug")  # bound to the tenant
    return {"items": [to_public(ticket) for ticket in page.items], "next_cursor": page.next_cursor}


async def main() -> None:
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        acme, globex = {"X-Tenant": "acme"}, {"X-Tenant": "globex"}
        made = {}
        for headers, slug in [(acme, "a1"), (acme, "a2"), (acme, "a3"), (globex, "g1")]:
            # a client cannot choose the tenant, nor the counters: they are not in the body
            body = {"slug": slug, "title": slug.upper(), "tenant": "globex", "views": 10**9}
            answer = await http.post("/tickets", json=body, headers=headers)
            assert answer.status_code == 201, answer.text
            made[slug] = answer.json()
        assert made["a1"]["tenant"] == "acme" and made["a1"]["views"] == 0

        secret_id = made["g1"]["id"]
        assert (await http.get(f"/tickets/{secret_id}", headers=globex)).status_code == 200
        assert (await http.get(f"/tickets/{secret_id}", headers=acme)).status_code == 404  # as if missing
        hijack = await http.patch(f"/tickets/{secret_id}", json={"title": "mine"}, headers=acme)
        assert hijack.status_code == 404
        moved = await http.patch(f"/tickets/{made['a1']['id']}", json={"tenant": "globex"}, headers=acme)
        assert moved.status_code == 200 and moved.json()["tenant"] == "acme"  # "tenant" is not in the update body
        assert (await http.get("/tickets", headers={})).status_code == 400  # no tenant: refused, never "all"

        page = (await http.get("/tickets", params={"size": 2}, headers=acme)).json()
        assert [t["slug"] for t in page["items"]] == ["a1", "a2"]
        foreign = await http.get("/tickets", params={"size": 2, "cursor": page["next_cursor"]}, headers=globex)
        assert foreign.status_code == 400  # a cursor is bound to its tenant
        rest = (await http.get("/tickets", params={"size": 2, "cursor": page["next_cursor"]}, headers=acme)).json()
        assert [t["slug"] for t in rest["items"]] == ["a3"] and rest["next_cursor"] is None

        # Without a scope the class fails closed; the view across tenants is asked for by name.
        try:
            await Ticket.get(secret_id)
        except UnscopedAccessError as error:
            print(error)  # Ticket is tenant-scoped (Index.tenant_field = 'tenant'): get() needs a tenant. ...
        assert await Ticket.unscoped().count() == 4


if __name__ == "__main__":
    import asyncio

    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
