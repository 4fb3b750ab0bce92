"""Security review of tenant isolation: attacks by code holding tenant acme's scope.

Each test asserts the isolation docs/tenancy.md promises, on the real node, with tenant
globex's documents g1 and g2 planted beside acme's a1 and a2 (the ``tickets`` fixture of
test_tenancy.py). A failing test is a leak: globex's data read by acme's scope, or one of
globex's documents changed or deleted through it.
"""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch

from odm import DeleteAction, DocumentNotFoundError, IndexAction, TenantError, UpdateAction

from .test_tenancy import Ticket, stored, tickets  # noqa: F401  (the fixture)

# -- writes ------------------------------------------------------------------------------------


async def test_a_scoped_bulk_delete_of_a_document_object_never_reaches_another_tenants_id(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    # DeleteAction("g1") is checked (mget of the tenant's documents); DeleteAction(document) is not:
    # the document is stamped "acme" in memory and its id sent as it is, without tokens.
    acme = tickets.for_tenant("acme")
    before = await stored(odm_client, tickets)
    with pytest.raises((TenantError, DocumentNotFoundError)):
        await acme.bulk([DeleteAction(tickets(title="x", meta={"id": "g1"}))], refresh=True)
    assert await stored(odm_client, tickets) == before


async def test_a_scoped_bulk_update_of_a_document_object_never_reaches_another_tenants_id(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    before = await stored(odm_client, tickets)
    with pytest.raises((TenantError, DocumentNotFoundError)):
        await acme.bulk([UpdateAction(tickets(title="x", meta={"id": "g2"}), {"title": "pwned"})], refresh=True)
    assert await stored(odm_client, tickets) == before


async def test_a_scoped_bulk_index_action_to_another_index_checks_the_id_there(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    # TenantScope._checked claims a given id in the bulk's index (cls.index_name(bulk index=)), but
    # the action is written to its own IndexAction(index=...) (or document.meta.index): an id that
    # acme holds in the class's index passes, and globex's document of that id in the other index
    # is overwritten, without tokens, and becomes acme's.
    other = tickets.index_name() + "-b"
    everyone = tickets.unscoped()
    await everyone.save(tickets(tenant="globex", title="globex in b", meta={"id": "a1"}), index=other, refresh=True)
    before = (await odm_client.get(index=other, id="a1"))["_source"]
    acme = tickets.for_tenant("acme")
    with pytest.raises(TenantError):
        await acme.bulk([IndexAction(tickets(title="overwritten", meta={"id": "a1"}), index=other)], refresh=True)
    assert (await odm_client.get(index=other, id="a1"))["_source"] == before


# -- reads past the tenant's filter ---------------------------------------------------------


async def test_a_terms_aggregation_with_min_doc_count_0_does_not_list_other_tenants_values(
    tickets: type[Ticket],
) -> None:
    # min_doc_count=0 makes Elasticsearch add every term of the shard's field with count 0,
    # whatever the query: here the other tenants' names (any keyword field leaks the same way).
    search = tickets.for_tenant("acme").search().extra(size=0)
    search.aggs.bucket("tenants", "terms", field="tenant", min_doc_count=0)
    try:
        response = await search.execute()
    except TenantError:
        return
    keys = [bucket["key"] for bucket in response.body["aggregations"]["tenants"]["buckets"]]
    assert keys == ["acme"]


async def test_significant_terms_background_filter_does_not_count_another_tenants_documents(
    tickets: type[Ticket],
) -> None:
    # A background_filter is accepted as it is: bg_count then counts whatever it names, another
    # tenant's documents included (a count oracle over globex's data).
    search = tickets.for_tenant("acme").search().extra(size=0)
    search.aggs.bucket(
        "sig", "significant_terms", field="status", background_filter={"term": {"tenant": "globex"}}
    )
    try:
        response = await search.execute()
    except TenantError:
        return
    assert response.body["aggregations"]["sig"]["bg_count"] == 0  # globex has 2


async def test_suggest_url_parameters_are_refused_as_the_suggest_section_is(tickets: type[Ticket]) -> None:
    # params(suggest_field=..., suggest_text=...) is the URL form of a term suggester: it reads the
    # whole index's terms, past the query, as the refused body section "suggest" would.
    search = tickets.for_tenant("acme").search().params(
        suggest_field="tenant", suggest_text="globez", suggest_mode="always"
    )
    try:
        response = await search.execute()
    except TenantError:
        return
    options = [option["text"] for entry in response.body.get("suggest", {}).get("tenant", []) for option in entry["options"]]
    assert "globex" not in options


async def test_a_terms_lookup_does_not_read_another_tenants_document(tickets: type[Ticket]) -> None:
    # A terms lookup fetches a document by id, past the tenant filter: matching the scope's own
    # documents against g1's values tells acme what globex's g1 holds (here: g1's status is "open").
    acme = tickets.for_tenant("acme")
    lookup = {"index": tickets.index_name(), "id": "g1", "path": "status"}
    try:
        matched = await acme.search().query("terms", status=lookup).count()
    except TenantError:
        return
    assert matched == 0  # another tenant's document reads as a missing one


async def test_a_scoped_bulk_of_the_tenants_own_document_objects_is_written_with_their_tokens(
    tickets: type[Ticket], odm_client: AsyncElasticsearch
) -> None:
    acme = tickets.for_tenant("acme")
    other = tickets.index_name() + "-b"
    # built by code (no tokens): checked by id, then written with the tokens read by the check
    result = await acme.bulk(
        [UpdateAction(tickets(title="x", meta={"id": "a1"}), {"views": 7}), DeleteAction(tickets(title="y", meta={"id": "a2"})),
         IndexAction(tickets(title="in b", meta={"id": "g1"}), index=other)],  # g1 is free in the other index
        refresh=True,
    )
    assert len(result.succeeded) == 3 and not result.failed
    after = await stored(odm_client, tickets)
    assert sorted(after) == ["a1", "g1", "g2"] and after["a1"]["views"] == 7 and after["g1"]["tenant"] == "globex"
    assert (await odm_client.get(index=other, id="g1"))["_source"]["tenant"] == "acme"
    # a loaded document keeps its own tokens: stale ones fail, nothing is overwritten
    stale = await acme.get("a1")
    await acme.update(await acme.get("a1"), {"views": 8}, refresh=True)
    result = await acme.bulk([UpdateAction(stale, {"views": 9})], refresh=True)
    assert len(result.failed) == 1
    assert (await stored(odm_client, tickets))["a1"]["views"] == 8
