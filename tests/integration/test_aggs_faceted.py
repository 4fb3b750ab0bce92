"""FacetedSearch reads terms facets through the typed buckets: keys of the field's type."""

from __future__ import annotations

from datetime import datetime, timezone

from elasticsearch import AsyncElasticsearch

from odm import AsyncFacetedSearch, AsyncSearch, NestedFacet, TermsFacet
from odm.aggs import Aggs, Avg, Terms
from odm.testing.isolation import isolated
from tests.models.aggs_shop import Item, Kind, Variant


async def test_terms_facet_keys_are_typed_by_the_field(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    bound = isolated(Item, index_prefix)
    await bound.init()
    rows = [(Kind.HAT, True, 3, "S"), (Kind.HAT, False, 3, "M"), (Kind.SHIRT, True, 5, "S")]
    for n, (kind, in_stock, stock, size) in enumerate(rows):
        item = bound(
            title="x",
            color="red",
            kind=kind,
            in_stock=in_stock,
            stock=stock,
            created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            variants=[Variant(size=size)],
            meta={"id": str(n)},
        )
        await item.save()
    await odm_client.indices.refresh(index=bound.index_name())

    class ItemSearch(AsyncFacetedSearch[Item]):
        doc_types = [bound]
        facets = {
            "in_stock": TermsFacet(field="in_stock"),
            "kind": TermsFacet(field="kind"),
            "stock": TermsFacet(field="stock"),
            "sizes": NestedFacet("variants", TermsFacet(field="variants.size")),
        }

    response = await ItemSearch(filters={"in_stock": True, "kind": "hat"}).execute()
    facets = response.facets
    # each facet counts under the other facets' filters: in_stock under kind=hat
    assert [tuple(v) for v in facets.in_stock] == [(False, 1, False), (True, 1, True)]
    assert type(facets.in_stock[0].value) is bool  # elasticsearch-dsl gives 1 and 0
    assert [(v.value, v.count, v.selected) for v in facets.kind] == [(Kind.HAT, 1, True), (Kind.SHIRT, 1, False)]
    assert type(facets.kind[0].value) is Kind
    assert [(v.value, type(v.value)) for v in facets.stock] == [(3, int)]
    assert [(v.value, v.count) for v in facets.sizes] == [("S", 1)]


async def test_a_faceted_search_can_add_declared_aggregations(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    bound = isolated(Item, index_prefix)
    await bound.init()
    for n, price in enumerate([10.0, 30.0]):
        await bound(title="x", color="red", price=price, created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), meta={"id": str(n)}).save()
    await odm_client.indices.refresh(index=bound.index_name())

    class ByColor(Aggs):
        price = Avg(Item.price)

    class Typed(Aggs):
        colors = Terms(Item.color, aggs=ByColor)

    class ItemSearch(AsyncFacetedSearch[Item]):
        doc_types = [bound]
        facets = {"color": TermsFacet(field="color")}

        def search(self) -> AsyncSearch[Item]:
            return super().search().aggregate(Typed)

    response = await ItemSearch().execute()
    typed = response.aggs(Typed)
    assert [(b.key, b.doc_count, b.aggs.price) for b in typed.colors.buckets] == [("red", 2, 20.0)]
    assert [tuple(v) for v in response.facets.color] == [("red", 2, False)]
