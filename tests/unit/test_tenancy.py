"""Tenancy's pure rules: the declaration, the grant of one call, and the bodies a scope sends.

The node of the test suite lacks the ``reindex`` module, so the bodies of a scope's update
and delete by query are pinned here (tests/integration/test_tenancy.py runs them where it can).
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from odm import (
    AsyncDocument,
    AsyncUpdateByQuery,
    BulkInputError,
    DeleteAction,
    IndexAction,
    Keyword,
    MappingError,
    TenantError,
    Text,
    UnscopedAccessError,
)
from odm._core.tenancy import TenantView, admit, admitted, check_tenant, scoped_body
from odm.bulk._actions import Defaults, encode


class Ticket(AsyncDocument):
    tenant: Annotated[str, Keyword()] | None = None
    title: str = ""
    embedding: list[float] = []

    class Index:
        name = "tickets"
        tenant_field = "tenant"


class Plain(AsyncDocument):
    title: str = ""

    class Index:
        name = "plain"


ACME = TenantView("tenant", "tenant", "acme")
TERM = {"term": {"tenant": "acme"}}


def test_the_tenant_field_is_checked_at_class_definition() -> None:
    with pytest.raises(MappingError, match="tenant_field = 'owner' is not a field"):
        class NoField(AsyncDocument):
            title: str = ""

            class Index:
                name = "x"
                tenant_field = "owner"
    with pytest.raises(MappingError, match="must be a keyword field"):
        class TextTenant(AsyncDocument):
            tenant: Annotated[str, Text()] = ""

            class Index:
                name = "x"
                tenant_field = "tenant"
    with pytest.raises(MappingError, match="tenant_routing needs tenant_field"):
        class RoutingOnly(AsyncDocument):
            title: str = ""

            class Index:
                name = "x"
                tenant_routing = True
    with pytest.raises(MappingError, match="server_owned names \\['nope'\\]"):
        class Owned(AsyncDocument):
            title: str = ""

            class Index:
                name = "x"
                server_owned = ("nope",)


def test_the_tenant_field_is_server_owned_and_inherited() -> None:
    class Child(Ticket):
        class Index:
            name = "child-tickets"
            server_owned = ("title",)

    assert Child.__odm__.tenant_field == "tenant"
    assert Child.__odm__.server_owned == {"tenant", "title"}


@pytest.mark.parametrize("bad", ["", "a,b", "*", "acme*", " acme", "a b", "é", "a" * 256, None, 1, ["acme"]])
def test_a_malformed_tenant_is_refused(bad: Any) -> None:
    with pytest.raises(TenantError) as caught:
        check_tenant(bad)
    assert caught.value.reason == "tenant"


def test_a_missing_tenant_never_means_every_tenant() -> None:
    with pytest.raises(TenantError):
        Ticket.for_tenant(None)  # type: ignore[arg-type]
    assert Ticket.unscoped().tenant is None
    with pytest.raises(Exception, match="not tenant-scoped"):
        Plain.for_tenant("acme")


def test_a_grant_is_taken_once_and_only_by_its_class() -> None:
    with admit(Ticket, ACME):
        assert admitted(Plain, "get()") is None  # not tenant-scoped: nothing to grant
        assert admitted(Ticket, "get()") == ACME
        with pytest.raises(UnscopedAccessError, match=r"get\(\) needs a tenant"):
            admitted(Ticket, "get()")  # taken: code run later in the call is not granted anything
    with pytest.raises(UnscopedAccessError):
        admitted(Ticket, "search()")
    assert admitted(Ticket, "save()", meta_tenant="acme") == TenantView("tenant", "tenant", "acme")


def test_the_filter_wraps_the_whole_query() -> None:
    body = scoped_body([Ticket], ACME, {"query": {"match": {"title": "x"}}, "size": 3})
    assert body == {"query": {"bool": {"filter": [TERM], "must": [{"match": {"title": "x"}}]}}, "size": 3}
    assert scoped_body([Ticket], ACME, {}) == {"query": {"bool": {"filter": [TERM]}}}
    knn = {"field": "embedding", "query_vector": [1.0], "k": 1, "num_candidates": 5, "filter": {"term": {"x": 1}}}
    assert scoped_body([Ticket], ACME, {"knn": knn})["knn"] == [{**knn, "filter": [TERM, {"term": {"x": 1}}]}]
    assert scoped_body([Plain], None, {"query": {"match_all": {}}}) == {"query": {"match_all": {}}}
    unscoped = TenantView("tenant", "tenant", None)
    assert scoped_body([Ticket], unscoped, {"query": {"match_all": {}}}) == {"query": {"match_all": {}}}
    with pytest.raises(UnscopedAccessError):
        scoped_body([Ticket], None, {})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"suggest": {"s": {"text": "x", "term": {"field": "title"}}}}, "suggest"),
        ({"retriever": {"standard": {"query": {"match_all": {}}}}}, "retriever"),
        ({"aggs": {"all": {"global": {}, "aggs": {"t": {"terms": {"field": "tenant"}}}}}}, "global"),
        ({"aggs": {"f": {"filter": {"match_all": {}}, "aggs": {"g": {"global": {}}}}}}, "global"),
        ({"aggregations": {"s": {"significant_terms": {"field": "title"}}}}, "significant_terms"),
    ],
)
def test_parts_that_read_past_the_query_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(TenantError, match=message):
        scoped_body([Ticket], ACME, body)


def test_the_q_parameter_which_replaces_the_query_is_refused() -> None:
    with pytest.raises(TenantError, match="q="):
        Ticket.for_tenant("acme").search().params(q="*").to_dict()
    with pytest.raises(TenantError, match="q="):
        Ticket.for_tenant("acme").update_by_query().params(q="*").to_dict()
    assert Ticket.unscoped().search().params(q="*").to_dict() == {}


def test_a_significant_terms_background_filter_is_limited_to_the_tenant() -> None:
    other = {"term": {"tenant": "globex"}}
    for kind in ("significant_terms", "significant_text"):
        aggs: dict[str, Any] = {"s": {kind: {"field": "title", "background_filter": other}, "aggs": {"n": {kind: {"field": "t", "background_filter": other}}}}}
        scoped = scoped_body([Ticket], ACME, {"aggs": aggs})["aggs"]
        wrapped = {"bool": {"filter": [TERM, other]}}
        assert scoped == {"s": {kind: {"field": "title", "background_filter": wrapped}, "aggs": {"n": {kind: {"field": "t", "background_filter": wrapped}}}}}
        assert aggs["s"][kind]["background_filter"] == other  # the caller's body is not changed


@pytest.mark.parametrize("kind", ["terms", "significant_terms", "significant_text"])
def test_a_terms_aggregation_with_min_doc_count_0_is_refused(kind: str) -> None:
    inner = {"field": "title", "min_doc_count": 0, "background_filter": TERM}
    with pytest.raises(TenantError, match="min_doc_count=0"):
        scoped_body([Ticket], ACME, {"aggs": {"a": {"filter": TERM, "aggs": {"t": {kind: inner}}}}})
    scoped_body([Ticket], ACME, {"aggs": {"t": {kind: {**inner, "min_doc_count": 1}}}})  # any other count is fine


@pytest.mark.parametrize("param", ["suggest_field", "suggest_text", "suggest_mode", "suggest_size"])
def test_the_suggest_url_parameters_are_refused(param: str) -> None:
    with pytest.raises(TenantError, match=param):
        Ticket.for_tenant("acme").search().params(**{param: "x"}).to_dict()
    assert Ticket.unscoped().search().params(**{param: "x"}).to_dict() == {}


@pytest.mark.parametrize(
    "query",
    [
        {"terms": {"title": {"index": "tickets", "id": "g1", "path": "title"}}},
        {"more_like_this": {"fields": ["title"], "like": [{"_index": "tickets", "_id": "g1"}]}},
        {"more_like_this": {"fields": ["title"], "like": "text", "unlike": {"_id": "g1"}}},
        {"geo_shape": {"where": {"indexed_shape": {"index": "shapes", "id": "g1", "path": "where"}}}},
        {"shape": {"where": {"indexed_shape": {"index": "shapes", "id": "g1", "path": "where"}}}},
        {"percolate": {"field": "query", "index": "tickets", "id": "g1"}},
    ],
)
def test_queries_that_fetch_a_document_by_id_are_refused_anywhere(query: dict[str, Any]) -> None:
    nested = {"bool": {"should": [{"match_all": {}}, query]}}
    for body in ({"query": nested}, {"post_filter": query}, {"aggs": {"f": {"filter": nested}}}, {"knn": {"field": "v", "filter": query}}):
        with pytest.raises(TenantError, match="by id"):
            scoped_body([Ticket], ACME, body)


def test_queries_like_a_fetch_by_id_are_not_refused() -> None:
    for query in (
        {"terms": {"title": ["a", "b"]}},
        {"more_like_this": {"fields": ["title"], "like": ["text", {"doc": {"title": "x"}}]}},
        {"percolate": {"field": "query", "document": {"title": "x"}}},
    ):
        scoped_body([Ticket], ACME, {"query": query, "aggs": {"t": {"terms": {"field": "title", "script": {"id": "s"}}}}})


def test_the_bodies_of_a_scopes_update_and_delete_by_query() -> None:
    acme = Ticket.for_tenant("acme")
    update = acme.update_by_query().filter("term", title="x").script(source="ctx._source.title = 'y'")
    assert update.to_dict() == {
        "query": {"bool": {"filter": [TERM], "must": [{"bool": {"filter": [{"term": {"title": "x"}}]}}]}},
        "script": {"source": "ctx._source.title = 'y'"},
    }
    assert acme.search().to_dict() == {"query": {"bool": {"filter": [TERM]}}}  # search().delete() sends this
    with pytest.raises(UnscopedAccessError):  # one built by hand is refused when its body is built
        AsyncUpdateByQuery(index="tickets", doc_type=Ticket).to_dict()
    assert Ticket.unscoped().update_by_query().to_dict() == {}


async def test_an_unscoped_write_must_name_a_valid_tenant() -> None:
    everyone = Ticket.unscoped()
    for ticket in (Ticket(title="x"), Ticket(tenant="", title="x"), Ticket(tenant="a b", title="x")):
        with pytest.raises(TenantError):
            await everyone.save(ticket)  # refused before any request: no connection is needed


async def test_a_scope_writes_documents_of_its_subclasses() -> None:
    class Special(Ticket):
        pass

    with admit(Ticket, ACME):
        assert admitted(Special, "save()") == ACME
    with pytest.raises(TenantError, match="holds tenant 'globex'"):
        await Ticket.for_tenant("acme").save(Special(tenant="globex", title="x"))


def test_one_bulk_checks_every_input_whatever_classes_it_met_before() -> None:
    """The encoder remembers, per bulk, the classes without a tenant field: never one with."""
    defaults = Defaults()  # odm.bulk(): no scope
    encode(IndexAction(Plain(meta={"id": "1"})), 0, defaults)
    actions: list[Any] = [IndexAction(Ticket(tenant="acme", meta={"id": "2"})), DeleteAction("3", document_class=Ticket)]
    for position, action in enumerate(actions):
        with pytest.raises(UnscopedAccessError):
            encode(action, position, defaults)

    class NotADocument(BaseModel):
        title: str = ""

    with pytest.raises(BulkInputError, match="not a document: NotADocument"):
        encode(IndexAction(NotADocument()), 3, defaults)
    scoped = Defaults(tenancy=ACME)
    encode(IndexAction(Plain(meta={"id": "4"})), 0, scoped)
    with pytest.raises(TenantError):
        encode(IndexAction(Ticket(tenant="other", meta={"id": "5"})), 1, scoped)
