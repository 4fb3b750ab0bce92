"""odm.fastapi's tenant dependency against the real node: scoped CRUD, search and cursors.

A second tenant's tickets are planted beside; every request of ``acme`` is checked against
what the node holds (read with the raw client). No ``from __future__ import annotations``:
FastAPI reads the endpoints' annotations.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from odm import AsyncDocument, Keyword, TenantScope, get_client
from odm.fastapi import (
    OdmSettings,
    create_schema,
    install_exception_handlers,
    new_document,
    odm_lifespan,
    paginate,
    public_schema,
    tenant_scope,
    to_public,
    update_schema,
)
from odm.testing.isolation import isolated

SECRET = "a test secret of 32 characters.."


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    slug: Annotated[str, Keyword()]
    title: str
    views: int = 0

    class Index:
        name = "api-tickets"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"
        server_owned = ("views",)


@dataclass
class Api:
    http: httpx.AsyncClient
    tickets: type[Ticket]


def make_app(tickets: type[Ticket], settings: OdmSettings) -> FastAPI:
    app = FastAPI(lifespan=odm_lifespan(tickets, settings=settings))
    install_exception_handlers(app)
    create, update, public = create_schema(tickets, client_ids=True), update_schema(tickets), public_schema(tickets)

    async def tenant_of(request: Request) -> str | None:  # the app's own answer (here: its session header)
        return request.headers.get("x-session-org")

    ByHeader = Annotated[TenantScope[Ticket], Depends(tenant_scope(tickets))]
    ByApp = Annotated[TenantScope[Ticket], Depends(tenant_scope(tickets, tenant_of=tenant_of))]

    @app.post("/tickets", status_code=201)
    async def create_ticket(body: create, scope: ByHeader) -> Any:  # type: ignore[valid-type]
        ticket = new_document(tickets, body)
        await scope.save(ticket, refresh=True)
        return to_public(ticket, public).model_dump()

    @app.get("/tickets/{ticket_id}")
    async def read(ticket_id: str, scope: ByHeader) -> Any:
        return to_public(await scope.get(ticket_id), public).model_dump()

    @app.get("/app/tickets/{ticket_id}")
    async def read_by_app(ticket_id: str, scope: ByApp) -> Any:
        return to_public(await scope.get(ticket_id), public).model_dump()

    @app.patch("/tickets/{ticket_id}")
    async def patch(ticket_id: str, body: update, scope: ByHeader) -> Any:  # type: ignore[valid-type]
        ticket = await scope.get(ticket_id)
        await ticket.update(body.model_dump(exclude_unset=True), refresh=True)  # type: ignore[attr-defined]
        return to_public(ticket, public).model_dump()

    @app.delete("/tickets/{ticket_id}", status_code=204)
    async def delete(ticket_id: str, scope: ByHeader) -> None:
        await scope.delete_by_id(ticket_id, refresh=True)

    @app.get("/tickets")
    async def listing(scope: ByHeader, cursor: str | None = None, size: int = 2) -> Any:
        page = await paginate(scope.search().sort("slug"), cursor, size=size, secret=SECRET, tiebreaker="slug")
        return {"items": [t.slug for t in page.items], "next_cursor": page.next_cursor, "count": await scope.count()}

    return app


@pytest.fixture
async def api(es_url: str, index_prefix: str) -> AsyncIterator[Api]:
    tickets = isolated(Ticket, index_prefix)
    app = make_app(tickets, OdmSettings(url=es_url, startup_timeout=10))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        everyone = tickets.unscoped()
        for slug in ("g1", "g2"):
            await everyone.save(tickets(tenant="globex", slug=slug, title="secret", views=7, meta={"id": slug}))
        for slug in ("a1", "a2", "a3"):
            await everyone.save(tickets(tenant="acme", slug=slug, title=slug, meta={"id": slug}))
        await get_client().indices.refresh(index=tickets.index_name())
        yield Api(http, tickets)


ACME = {"X-Tenant": "acme"}
GLOBEX = {"X-Tenant": "globex"}


async def stored(api: Api) -> dict[str, dict[str, Any]]:
    client = get_client()
    await client.indices.refresh(index=api.tickets.index_name())
    answer = await client.search(index=api.tickets.index_name(), size=100)
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


async def test_the_tenant_comes_from_the_header_or_the_apps_callable(api: Api) -> None:
    assert (await api.http.get("/tickets/a1", headers=ACME)).json()["tenant"] == "acme"
    assert (await api.http.get("/app/tickets/a1", headers={"X-Session-Org": "acme"})).json()["slug"] == "a1"
    assert (await api.http.get("/app/tickets/g1", headers={"X-Session-Org": "acme"})).status_code == 404
    for headers in ({}, {"X-Tenant": ""}, {"X-Tenant": "acme,globex"}, {"X-Tenant": "*"}):
        answer = await api.http.get("/tickets", headers=headers)
        assert answer.status_code == 400, (headers, answer.text)
    assert (await api.http.get("/app/tickets/a1")).status_code == 400  # the app's callable found none


async def test_crud_never_reaches_another_tenant(api: Api) -> None:
    before = await stored(api)
    for method, body in (("GET", None), ("PATCH", {"title": "mine"}), ("DELETE", None)):
        foreign = await api.http.request(method, "/tickets/g1", json=body, headers=ACME)
        missing = await api.http.request(method, "/tickets/zz", json=body, headers=ACME)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["detail"].replace("g1", "zz") == missing.json()["detail"]
    taken = await api.http.post("/tickets", json={"id": "g1", "slug": "x", "title": "x"}, headers=ACME)
    assert taken.status_code == 409
    assert await stored(api) == before


async def test_server_owned_fields_are_shown_never_taken(api: Api) -> None:
    hostile = {"id": "a9", "slug": "a9", "title": "new", "tenant": "globex", "views": 10**9}
    created = await api.http.post("/tickets", json=hostile, headers=ACME)
    assert created.status_code == 201
    assert (created.json()["tenant"], created.json()["views"]) == ("acme", 0)
    patched = await api.http.patch("/tickets/a9", json={"tenant": "globex", "views": 5, "title": "t"}, headers=ACME)
    assert (patched.json()["tenant"], patched.json()["views"], patched.json()["title"]) == ("acme", 0, "t")
    source = (await stored(api))["a9"]
    assert (source["tenant"], source["views"], source["title"]) == ("acme", 0, "t")


async def test_search_count_and_cursors_are_the_tenants(api: Api) -> None:
    first = (await api.http.get("/tickets", headers=ACME)).json()
    assert first["items"] == ["a1", "a2"] and first["count"] == 3
    rest = (await api.http.get("/tickets", params={"cursor": first["next_cursor"]}, headers=ACME)).json()
    assert rest["items"] == ["a3"] and rest["next_cursor"] is None
    replayed = await api.http.get("/tickets", params={"cursor": first["next_cursor"]}, headers=GLOBEX)
    assert replayed.status_code == 400 and "another query, sort or scope" in replayed.json()["detail"]
    assert (await api.http.get("/tickets", headers=GLOBEX)).json()["items"] == ["g1", "g2"]
