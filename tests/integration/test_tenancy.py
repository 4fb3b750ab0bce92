"""Tenancy on the real node: every scoped operation, with a second tenant's documents planted beside.

Each test plants tickets of ``acme`` and of ``globex`` in one shared index and acts as
``acme``: globex's documents are never returned, changed or counted, and answering for one
of them is answering for a missing document. A class declared tenant-scoped refuses every
data operation without a scope (docs/tenancy.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    AsyncDocument,
    AsyncFacetedSearch,
    AsyncMultiSearch,
    AsyncSearch,
    CreateAction,
    DeleteAction,
    DocumentNotFoundError,
    IndexAction,
    Keyword,
    TenantError,
    TermsFacet,
    UnscopedAccessError,
    UpdateAction,
    bulk,
)
from odm.migrate import apply
from odm.testing.isolation import isolated


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str
    status: Annotated[str, Keyword()] = "open"
    views: int = 0

    class Index:
        name = "tickets"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"


class RoutedTicket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str

    class Index:
        name = "routed-tickets"
        settings = {"number_of_shards": 2, "number_of_replicas": 0}
        tenant_field = "tenant"
        tenant_routing = True


PLANTED = {
    "a1": ("acme", "Printer jam", "open"),
    "a2": ("acme", "VPN down", "closed"),
    "g1": ("globex", "Globex secret", "open"),
    "g2": ("globex", "Globex payroll", "open"),
}


@pytest.fixture
async def tickets(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Ticket]:
    bound = isolated(Ticket, index_prefix)
    await bound.init()
    everyone = bound.unscoped()
    for doc_id, (tenant, title, status) in PLANTED.items():
        await everyone.save(bound(tenant=tenant, title=title, status=status, meta={"id": doc_id}))
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def stored(client: AsyncElasticsearch, cls: type[Ticket]) -> dict[str, dict[str, Any]]:
    """Every stored document, read with the raw client: what is really in the index."""
    await client.indices.refresh(index=cls.index_name())
    answer = await client.search(index=cls.index_name(), size=100, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


# -- fail closed -------------------------------------------------------------------------------


async def test_every_unscoped_operation_is_refused_and_nothing_is_written(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    before = await stored(odm_client, tickets)
    refused: dict[str, Callable[[], Awaitable[Any]]] = {
        "get()": lambda: tickets.get("a1"),
        "get_or_none()": lambda: tickets.get_or_none("a1"),
        "mget()": lambda: tickets.mget(["a1"]),
        "exists()": lambda: tickets.exists("a1"),
        "update_by_id()": lambda: tickets.update_by_id("g1", title="x"),
        "delete_by_id()": lambda: tickets.delete_by_id("g1"),
        "bulk()": lambda: tickets.bulk([tickets(tenant="acme", title="sneaky")]),
        "save()": lambda: tickets(tenant="acme", title="new").save(),
        "update()": lambda: tickets(title="x", meta={"id": "g1"}).update(title="y"),
        "delete()": lambda: tickets(title="x", meta={"id": "g1"}).delete(),
    }
    for operation, call in refused.items():
        with pytest.raises(UnscopedAccessError) as caught:
            await call()
        assert caught.value.operation == operation
        assert f"{operation} needs a tenant" in str(caught.value)
        assert "for_tenant(tenant)" in str(caught.value) and "unscoped()" in str(caught.value)
    with pytest.raises(UnscopedAccessError):
        tickets.search()
    with pytest.raises(UnscopedAccessError):
        tickets.update_by_query()
    with pytest.raises(UnscopedAccessError):  # a search built by hand is refused when sent
        await AsyncSearch(index=tickets.index_name(), doc_type=tickets).count()
    # odm.bulk() has no scope: each tenant-scoped input is reported failed, never sent
    result = await bulk([tickets(tenant="acme", title="via odm.bulk"), DeleteAction("g1", document_class=tickets)])
    assert [type(failure.error) for failure in result.failed] == [UnscopedAccessError, UnscopedAccessError]
    assert not result.succeeded
    assert await stored(odm_client, tickets) == before


async def test_a_faceted_search_without_a_scope_is_refused(tickets: type[Ticket]) -> None:
    class TicketSearch(AsyncFacetedSearch[Ticket]):
        doc_types = [tickets]
        facets = {"status": TermsFacet(field="status")}

    with pytest.raises(UnscopedAccessError):
        await TicketSearch().execute()


async def test_the_unscoped_view_asked_for_by_name_sees_every_tenant(tickets: type[Ticket]) -> None:
    everyone = tickets.unscoped()
    assert await everyone.count() == 4
    assert (await everyone.get("g1")).tenant == "globex"


async def test_a_tenant_value_is_checked(tickets: type[Ticket]) -> None:
    for bad in ("", "a,b", "acme*", " acme", "a" * 300, None, 7):
        with pytest.raises(TenantError):
            tickets.for_tenant(bad)  # type: ignore[arg-type]


# -- reads ------------------------------------------------------------------------------------


async def test_get_answers_another_tenants_document_as_a_missing_one(tickets: type[Ticket]) -> None:
    acme = tickets.for_tenant("acme")
    own = await acme.get("a1")
    assert (own.title, own.tenant, own.meta.tenant) == ("Printer jam", "acme", "acme")
    with pytest.raises(DocumentNotFoundError) as foreign:
        await acme.get("g1")
    with pytest.raises(DocumentNotFoundError) as missing:
        await acme.get("zz")
    assert str(foreign.value) == str(missing.value).replace("'zz'", "'g1'")
    assert foreign.value.meta.status == missing.value.meta.status == 404
    assert foreign.value.body == {"_index": tickets.index_name(), "_id": "g1", "found": False}
    assert missing.value.body == {"_index": tickets.index_name(), "_id": "zz", "found": False}
    assert await acme.get_or_none("g1") is None
    assert await acme.exists("g1") is False and await acme.exists("a1") is True


async def test_mget_counts_another_tenants_documents_as_missing(tickets: type[Ticket]) -> None:
    acme = tickets.for_tenant("acme")
    found = await acme.mget(["a1", "g1", "a2"])
    assert [doc.title if doc else None for doc in found] == ["Printer jam", None, "VPN down"]
    assert [doc.meta.id for doc in await acme.mget(["g1", "a2", "g2"], missing="skip")] == ["a2"]
    with pytest.raises(DocumentNotFoundError) as caught:
        await acme.mget(["a1", "g1", "zz"], missing="raise")
    assert caught.value.ids == ["g1", "zz"]


async def test_search_count_scan_iterate_and_aggregations_see_one_tenant(tickets: type[Ticket]) -> None:
    acme = tickets.for_tenant("acme")
    everything = acme.search().query("match_all")
    assert sorted(str(doc.meta.id) for doc in await everything.execute()) == ["a1", "a2"]
    assert await acme.count() == 2
    assert await acme.search().filter("term", status="open").count() == 1
    # a query that names the other tenant still finds nothing: the filter wraps it
    assert await acme.search().query("term", tenant="globex").count() == 0
    assert sorted([str(doc.meta.id) async for doc in acme.search().scan()]) == ["a1", "a2"]
    assert sorted([str(doc.meta.id) async for doc in acme.search().extra(size=1).iterate()]) == ["a1", "a2"]
    search = acme.search().extra(size=0)
    search.aggs.bucket("by_status", "terms", field="status")
    buckets = (await search.execute()).aggregations.by_status.buckets
    assert {b.key: b.doc_count for b in buckets} == {"open": 1, "closed": 1}


async def test_aggregations_that_read_past_the_query_are_refused(tickets: type[Ticket]) -> None:
    search = tickets.for_tenant("acme").search()
    search.aggs.bucket("all", "global").bucket("by_tenant", "terms", field="tenant")
    with pytest.raises(TenantError, match="global aggregation"):
        await search.execute()
    suggesting = tickets.for_tenant("acme").search().suggest("s", "globex", term={"field": "status"})
    with pytest.raises(TenantError, match="suggest"):
        await suggesting.execute()
    with pytest.raises(TenantError, match="q="):  # Elasticsearch would put q= in place of the body's query
        await tickets.for_tenant("acme").search().params(q="tenant:globex").count()


async def test_faceted_search_through_a_scope(tickets: type[Ticket]) -> None:
    class TicketSearch(AsyncFacetedSearch[Ticket]):
        doc_types = [tickets]
        facets = {"status": TermsFacet(field="status")}

    response = await tickets.for_tenant("globex").faceted(TicketSearch()).execute()
    assert sorted(str(doc.meta.id) for doc in response) == ["g1", "g2"]
    assert [(value.value, value.count) for value in response.facets.status] == [("open", 2)]


async def test_multi_search_keeps_each_searchs_tenant(tickets: type[Ticket]) -> None:
    both = AsyncMultiSearch().add(tickets.for_tenant("acme").search()).add(tickets.for_tenant("globex").search())
    acme, globex = await both.execute()
    assert sorted(str(doc.meta.id) for doc in acme) == ["a1", "a2"]
    assert sorted(str(doc.meta.id) for doc in globex) == ["g1", "g2"]


# -- writes -----------------------------------------------------------------------------------


async def test_save_stamps_the_tenant_and_refuses_another(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    ticket = tickets(title="New laptop")
    assert await acme.save(ticket, refresh=True) == "created"
    assert ticket.tenant == "acme" and ticket.meta.tenant == "acme"
    before = await stored(odm_client, tickets)
    assert before[ticket.meta.id or ""]["tenant"] == "acme"
    with pytest.raises(TenantError, match="holds tenant 'globex'"):
        await acme.save(tickets(tenant="globex", title="Planted"))
    with pytest.raises(TenantError, match="is taken by a document this scope cannot see"):
        await acme.save(tickets(title="Overwrite", meta={"id": "g1"}))
    assert await stored(odm_client, tickets) == before


async def test_a_document_read_through_a_scope_writes_in_that_scope(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    ticket = await acme.get("a1")
    ticket.status = "closed"
    assert await ticket.save(refresh=True) == "updated"
    assert await ticket.update(views=3, refresh=True) == "updated"
    [hit] = await acme.search().filter("term", status="closed").filter("term", views=3).execute()
    assert hit.meta.tenant == "acme"
    with pytest.raises(TenantError, match="cannot move a document to tenant 'globex'"):
        await hit.update(tenant="globex")
    hit.tenant = "globex"
    with pytest.raises(TenantError, match="holds tenant 'globex'"):
        await hit.save()
    source = (await stored(odm_client, tickets))["a1"]
    assert (source["tenant"], source["status"], source["views"]) == ("acme", "closed", 3)


async def test_updates_and_deletes_never_reach_another_tenants_document(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    before = await stored(odm_client, tickets)
    ticket = await acme.get("a1")
    ticket.meta.id = "g1"  # code pointing a loaded document at another tenant's id
    attempts: dict[str, Callable[[], Awaitable[Any]]] = {
        "update": lambda: ticket.update(title="hijacked"),
        "delete": lambda: ticket.delete(),
        "update_by_id": lambda: acme.update_by_id("g1", title="hijacked"),
        "delete_by_id": lambda: acme.delete_by_id("g1"),
        "scope update": lambda: acme.update(tickets(title="x", meta={"id": "g1"}), title="hijacked"),
        "scope delete": lambda: acme.delete(tickets(title="x", meta={"id": "g1"})),
    }
    for name, attempt in attempts.items():
        with pytest.raises(DocumentNotFoundError) as caught:
            await attempt()
        assert str(caught.value).startswith("no document 'g1' in index"), name
    assert await stored(odm_client, tickets) == before


async def test_update_and_delete_by_id_of_the_tenants_own_documents(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    assert await acme.update_by_id("a1", views=7) == "updated"
    with pytest.raises(TenantError):
        await acme.update_by_id("a1", tenant="globex")
    await acme.delete_by_id("a2", refresh=True)
    after = await stored(odm_client, tickets)
    assert after["a1"]["views"] == 7 and after["a1"]["tenant"] == "acme"
    assert sorted(after) == ["a1", "g1", "g2"]


async def test_bulk_stamps_checks_and_never_touches_another_tenant(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    before = await stored(odm_client, tickets)
    batches: list[list[Any]] = [
        [tickets(title="ok"), tickets(tenant="globex", title="planted")],
        [UpdateAction("g1", {"title": "hijacked"})],
        [DeleteAction("g2")],
        [tickets(title="overwrite", meta={"id": "g1"})],
        [UpdateAction("a1", {"tenant": "globex"})],
    ]
    for bad in batches:
        with pytest.raises((TenantError, DocumentNotFoundError)):
            await acme.bulk(bad)
    assert await stored(odm_client, tickets) == before
    new = tickets(title="Bulk new")
    result = await acme.bulk(
        [new, CreateAction(tickets(title="Created", meta={"id": "a3"})), UpdateAction("a1", {"views": 5}),
         DeleteAction("a2"), IndexAction(tickets(title="Indexed", meta={"id": "a4"}))],
        refresh=True,
    )
    assert len(result.succeeded) == 5 and not result.failed
    after = await stored(odm_client, tickets)
    assert {doc_id: source["tenant"] for doc_id, source in after.items()} == {
        "a1": "acme", "a3": "acme", "a4": "acme", new.meta.id: "acme", "g1": "globex", "g2": "globex"
    }
    assert after["a1"]["views"] == 5
    assert {key: after[key] for key in ("g1", "g2")} == {key: before[key] for key in ("g1", "g2")}


async def test_delete_by_query_through_a_scope_deletes_that_tenants_only(
    tickets: type[Ticket], odm_client: AsyncElasticsearch, es_node: Any
) -> None:
    if "reindex" not in es_node.modules:
        pytest.skip("the test node lacks the Elasticsearch module reindex (tests/unit/test_tenancy.py pins the body)")
    await tickets.for_tenant("acme").search().params(refresh=True).delete()
    assert sorted(await stored(odm_client, tickets)) == ["g1", "g2"]


async def test_update_by_query_through_a_scope_updates_that_tenants_only(
    tickets: type[Ticket], odm_client: AsyncElasticsearch, es_node: Any
) -> None:
    if "reindex" not in es_node.modules or "lang-painless" not in es_node.modules:
        pytest.skip("the test node lacks reindex/lang-painless (tests/unit/test_tenancy.py pins the body)")
    update = tickets.for_tenant("acme").update_by_query().script(source="ctx._source.views = 9")
    await update.params(refresh=True).execute()
    after = await stored(odm_client, tickets)
    assert {doc_id: source.get("views") for doc_id, source in after.items()} == {"a1": 9, "a2": 9, "g1": 0, "g2": 0}


# -- routing and filtered aliases -------------------------------------------------------------


async def test_routing_by_tenant(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    routed = isolated(RoutedTicket, index_prefix)
    await routed.init()
    acme = routed.for_tenant("acme")
    ticket = routed(title="Routed")
    await acme.save(ticket, refresh=True)
    raw = await odm_client.get(index=routed.index_name(), id=ticket.meta.id or "", routing="acme")
    assert raw["_routing"] == "acme"
    assert (await acme.get(ticket.meta.id or "")).title == "Routed"
    assert [doc.title for doc in await acme.mget([ticket.meta.id or ""])] == ["Routed"]  # type: ignore[union-attr]
    await routed.for_tenant("globex").save(routed(title="Other", meta={"id": "o1"}), refresh=True)
    assert await acme.get_or_none("o1") is None
    with pytest.raises(TenantError, match="routes by tenant"):
        await acme.save(routed(title="x"), routing="globex")


async def test_a_filtered_alias_limits_raw_client_searches_too(
    tickets: type[Ticket], odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    alias = await tickets.for_tenant("acme").create_alias()
    assert alias == f"{tickets.index_name()}.tenant.acme"
    answer = await odm_client.search(index=alias, query={"match_all": {}})
    assert sorted(hit["_id"] for hit in answer["hits"]["hits"]) == ["a1", "a2"]
    answer = await odm_client.search(index=alias, query={"term": {"tenant": "globex"}})
    assert answer["hits"]["hits"] == []
    with pytest.raises(TenantError, match="lower case"):
        tickets.for_tenant("Acme").alias_name()


async def test_scoped_reads_go_through_the_alias_with_tenant_aliases(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    class AliasedTicket(Ticket):
        class Index:
            name = "aliased-tickets"
            tenant_aliases = True

    aliased = isolated(AliasedTicket, index_prefix)
    await aliased.init()
    acme = aliased.for_tenant("acme")
    await acme.save(aliased(title="Mine", meta={"id": "m1"}), refresh=True)
    search = acme.search()
    assert search._index == [f"{aliased.index_name()}.tenant.acme"]
    with pytest.raises(Exception, match="no such index|index_not_found"):
        await search.count()  # the alias is created by create_alias(), not implied
    await acme.create_alias()
    assert [doc.meta.id for doc in await acme.search().execute()] == ["m1"]


# -- odm's own cross-tenant work --------------------------------------------------------------


class TicketV1(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: Annotated[str, Keyword()]

    class Index:
        name = "mig-tickets"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"


class TicketV2(AsyncDocument):
    """``title`` becomes text: a new index, every document copied through the model."""

    tenant: Annotated[str, Keyword()] | None = None
    title: str

    class Index:
        name = "mig-tickets"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        tenant_field = "tenant"


async def test_a_migration_copies_every_tenants_documents_as_they_are(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    v1, v2 = isolated(TicketV1, index_prefix), isolated(TicketV2, index_prefix)
    await v1.init()
    for tenant in ("acme", "globex"):
        await v1.for_tenant(tenant).bulk([v1(title=f"{tenant} {n}", meta={"id": f"{tenant}{n}"}) for n in range(3)])
    await odm_client.indices.refresh(index=v1.index_name())
    result = await apply(v2, state_index=f"{index_prefix}odm-migrations")
    assert (result.outcome, result.copied) == ("migrated", 6)
    answer = await odm_client.search(index=f"{v2.index_name()}-v2", size=100)
    assert {hit["_id"]: hit["_source"]["tenant"] for hit in answer["hits"]["hits"]} == {
        f"{tenant}{n}": tenant for tenant in ("acme", "globex") for n in range(3)
    }
    assert await v2.for_tenant("globex").count() == 3
