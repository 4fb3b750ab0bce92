"""The invalid-document policy against the real node: a stored document the model rejects
(written by the raw client, as another service would) is raised, skipped with a log line,
or collected, on every read path: execute, async for, scan, iterate, multi and faceted search
(hits and facet keys), and top hits of typed aggregations."""

from __future__ import annotations

import enum
import logging
from typing import Annotated, Any, Literal

import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import ValidationError

from odm import (
    AggregationResultError,
    ArgumentError,
    AsyncDocument,
    AsyncFacetedSearch,
    AsyncMultiSearch,
    AsyncSearch,
    FacetKeyError,
    HitValidationError,
    InvalidHit,
    Keyword,
    TermsFacet,
)
from odm._core.hits import InvalidPolicy
from odm.aggs import Aggs, Composite, HistogramSource, Range, Sources, Terms, TopHits
from odm.testing.isolation import isolated


class Category(str, enum.Enum):
    BOOKS = "books"
    TOYS = "toys"


class Product(AsyncDocument):
    name: Annotated[str, Keyword()]
    category: Category
    price: int

    class Index:
        name = "products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


# Stored by another service after "garden" was removed from the enum; the cheapest ones,
# so that sorted by price they fill the first page on their own.
BAD = {
    "bad1": {"name": "rake", "category": "garden", "price": 0},
    "bad2": {"name": "hose", "category": "garden", "price": 1},
}


@pytest.fixture
async def products(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Product]:
    bound = isolated(Product, index_prefix)
    await bound.init()
    for n in range(25):
        category = Category.BOOKS if n % 2 else Category.TOYS
        await bound(name=f"p{n:02}", category=category, price=10 + n, meta={"id": f"p{n:02}"}).save()
    for doc_id, source in BAD.items():
        await odm_client.index(index=bound.index_name(), id=doc_id, document=source)
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


def cheapest_first(products: type[Product]) -> AsyncSearch[Product]:
    return products.search().sort("price")


def check_reports(products: type[Product], invalid: list[InvalidHit]) -> None:
    assert [hit.id for hit in invalid] == ["bad1", "bad2"]
    for hit in invalid:
        assert hit.index == products.index_name() and hit.model == products.__name__
        assert hit.source == BAD[str(hit.id)]  # the raw _source, as stored
        assert [(e["loc"], e["type"], e["input"]) for e in hit.errors] == [(("category",), "enum", "garden")]


def check_logged(caplog: pytest.LogCaptureFixture, products: type[Product], ids: list[str]) -> None:
    records = [r for r in caplog.records if r.name == "odm"]
    assert all(r.levelno == logging.WARNING for r in records)
    messages = [r.getMessage() for r in records]
    assert len(messages) == len(ids)
    for doc_id, message in zip(ids, messages):
        assert f"hit {doc_id!r} in index {products.index_name()!r}" in message
        assert "category: Input should be 'books' or 'toys'" in message and "on_invalid='skip'" in message


async def test_raise_is_the_default_and_names_index_id_and_field(products: type[Product]) -> None:
    with pytest.raises(HitValidationError) as caught:
        await cheapest_first(products).execute()
    assert (caught.value.index, caught.value.id) == (products.index_name(), "bad1")
    assert "category" in str(caught.value)
    with pytest.raises(HitValidationError):
        await cheapest_first(products).on_invalid("raise").execute()


async def test_skip_leaves_them_out_keeps_the_total_and_logs_each(
    products: type[Product], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    response = await cheapest_first(products).on_invalid("skip")[:5].execute()
    assert [p.meta.id for p in response.hits] == ["p00", "p01", "p02"]
    assert response.hits.total.value == 27  # as Elasticsearch counted: the skipped ones included
    assert response.invalid_hits == []
    assert all(isinstance(p, products) for p in response)
    check_logged(caplog, products, ["bad1", "bad2"])


async def test_collect_returns_them_beside_the_valid_models(products: type[Product]) -> None:
    s = cheapest_first(products).on_invalid("collect")[:5]
    response = await s.execute()
    assert [p.meta.id for p in response.hits] == ["p00", "p01", "p02"] and response.hits.total.value == 27
    check_reports(products, response.invalid_hits)
    assert s.invalid_hits is response.invalid_hits
    # the page was read again from dicts: its body holds the sources as sent
    assert response.body["hits"]["hits"][0]["_source"] == BAD["bad1"]


async def test_a_valid_page_keeps_the_fast_path(products: type[Product]) -> None:
    response = await products.search().filter("range", price={"gte": 10}).sort("price").on_invalid("collect")[:3].execute()
    assert response.invalid_hits == []
    # validated straight from the bytes: the body's _source is the model itself
    assert response.body["hits"]["hits"][0]["_source"] is response.hits[0]


async def test_async_for_honours_the_policy(products: type[Product]) -> None:
    s = cheapest_first(products).on_invalid("collect")[:4]
    assert [p.name async for p in s] == ["p00", "p01"]
    check_reports(products, s.invalid_hits)
    with pytest.raises(HitValidationError):
        [p async for p in cheapest_first(products)[:4]]


async def test_iterate_across_pages_skips_and_goes_on_after_a_page_of_invalid_hits_only(
    products: type[Product], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    # pages of 2: the first page holds the two invalid documents and nothing else
    s = cheapest_first(products).extra(size=2).on_invalid("skip")
    seen = [p.meta.id async for p in s.iterate()]
    assert seen == [f"p{n:02}" for n in range(25)]
    check_logged(caplog, products, ["bad1", "bad2"])
    assert s.invalid_hits == []

    collecting = products.search().sort("-price").extra(size=10).on_invalid("collect")  # they come last
    assert len([p async for p in collecting.iterate()]) == 25
    check_reports(products, sorted(collecting.invalid_hits, key=lambda hit: str(hit.id)))

    with pytest.raises(HitValidationError):
        [p async for p in cheapest_first(products).extra(size=2).iterate()]


async def test_scan_honours_the_policy(products: type[Product], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    skipped = [p async for p in products.search().params(size=10).on_invalid("skip").scan()]
    assert sorted(str(p.meta.id) for p in skipped) == [f"p{n:02}" for n in range(25)]
    assert sorted(r.getMessage().split("'")[1] for r in caplog.records if r.name == "odm") == ["bad1", "bad2"]

    s = products.search().params(size=10).on_invalid("collect")
    assert len([p async for p in s.scan()]) == 25
    check_reports(products, sorted(s.invalid_hits, key=lambda hit: str(hit.id)))
    with pytest.raises(HitValidationError):
        [p async for p in products.search().params(size=10).scan()]


async def test_partial_sources_and_several_models_honour_it(products: type[Product], index_prefix: str) -> None:
    partial = await cheapest_first(products).source(["name", "category"]).on_invalid("collect")[:3].execute()
    assert [p.name for p in partial.hits] == ["p00"] and partial.hits[0].meta.partial_source
    assert [hit.id for hit in partial.invalid_hits] == ["bad1", "bad2"]
    assert partial.invalid_hits[0].source == {"name": "rake", "category": "garden"}  # as fetched

    class Other(AsyncDocument):
        label: str = ""

        class Index:
            name = index_prefix + "others"

    await Other.init()
    several = AsyncSearch[Any](index=[products.index_name(), Other.index_name()], doc_type=[products, Other])
    response = await several.sort("price").on_invalid("collect")[:3].execute()
    assert [p.meta.id for p in response.hits] == ["p00"]
    check_reports(products, response.invalid_hits)


async def test_multisearch_reads_each_search_by_its_own_policy(products: type[Product]) -> None:
    ms = AsyncMultiSearch[Product]()
    ms = ms.add(cheapest_first(products).on_invalid("collect")[:3])
    ms = ms.add(cheapest_first(products).on_invalid("skip")[:3])
    collected, skipped = await ms.execute()
    assert [p.meta.id for p in collected.hits] == ["p00"] and [p.meta.id for p in skipped.hits] == ["p00"]
    check_reports(products, collected.invalid_hits)
    assert skipped.invalid_hits == [] and skipped.hits.total.value == 27

    with pytest.raises(HitValidationError) as caught:
        await AsyncMultiSearch[Product]().add(cheapest_first(products)[:3]).execute()
    assert caught.value.id == "bad1"


async def test_faceted_search_honours_it(products: type[Product]) -> None:
    class ProductSearch(AsyncFacetedSearch[Product]):
        doc_types = [products]
        facets = {"name": TermsFacet(field="name", size=3, order={"_key": "asc"})}
        on_invalid = "collect"

    response = await ProductSearch(sort=["price"]).execute()
    assert len(response.hits) == 8 and response.hits.total.value == 27
    check_reports(products, response.invalid_hits)
    assert [(value, count) for value, count, _ in response.facets.name] == [("hose", 1), ("p00", 1), ("p01", 1)]

    class RaisingSearch(AsyncFacetedSearch[Product]):  # the default: raise
        doc_types = [products]
        facets = {"name": TermsFacet(field="name")}

    with pytest.raises(HitValidationError):
        await RaisingSearch(sort=["price"]).execute()


async def test_an_unknown_policy_is_refused_before_anything_is_sent(products: type[Product]) -> None:
    policy: Any = "ignore"
    with pytest.raises(ArgumentError, match="on_invalid\\(\\) takes one of 'raise', 'skip', 'collect', not 'ignore'"):
        products.search().on_invalid(policy)
    s = products.search().on_invalid("skip")
    assert s.query("match_all").sort("price")._on_invalid == "skip"  # kept by every copy
    assert await products.search().count() == 27  # nothing was written or lost


class ProductFacets(AsyncFacetedSearch[Product]):
    facets = {"category": TermsFacet(field="category")}


def category_search(products: type[Product], policy: InvalidPolicy) -> type[ProductFacets]:
    return type("ProductSearch", (ProductFacets,), {"doc_types": [products], "on_invalid": policy})


async def test_a_facet_key_the_model_refuses_is_raised_by_default_naming_facet_key_and_field(
    products: type[Product],
) -> None:
    # the dearest first: the invalid documents are not among the hits, only in the facet's buckets
    with pytest.raises(FacetKeyError) as caught:
        await category_search(products, "raise")(sort=["-price"]).execute()
    error = caught.value
    assert isinstance(error, AggregationResultError)
    assert (error.facet, error.field, error.key) == ("category", "category", "garden")
    assert "facet 'category': bucket key 'garden' is not a valid value of field 'category'" in str(error)
    assert "Input should be 'books' or 'toys'" in str(error)
    assert await products.search().count() == 27  # nothing was written or lost


@pytest.mark.parametrize("policy", ["skip", "collect"])
async def test_skip_and_collect_leave_a_refused_facet_key_out_and_log_it(
    products: type[Product], caplog: pytest.LogCaptureFixture, policy: InvalidPolicy
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    response = await category_search(products, policy)(sort=["price"]).execute()
    # the hits: the two invalid documents left out of the first page, collected or only logged
    assert [p.meta.id for p in response.hits] == [f"p{n:02}" for n in range(8)]
    assert response.hits.total.value == 27
    assert [hit.id for hit in response.invalid_hits] == (["bad1", "bad2"] if policy == "collect" else [])
    # the facet: "garden" is no Category, and is not turned into one; the others are typed
    assert [tuple(value) for value in response.facets.category] == [(Category.TOYS, 13, False), (Category.BOOKS, 12, False)]
    facet_records = [r for r in caplog.records if r.name == "odm" and "facet" in r.getMessage()]
    [record] = facet_records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "ProductSearch facet 'category': bucket key 'garden' is not a valid value of field 'category'" in message
    assert f"left out of the facet's values (on_invalid={policy!r})" in message


async def test_a_valid_facet_page_keeps_the_typed_keys(products: type[Product], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    class ValidOnly(AsyncFacetedSearch[Product]):
        doc_types = [products]
        facets = ProductFacets.facets
        on_invalid = "skip"

        def search(self) -> AsyncSearch[Product]:
            return super().search().filter("range", price={"gte": 10})  # no "garden" document: the one-call path

    response = await ValidOnly().execute()
    assert [tuple(value) for value in response.facets.category] == [(Category.TOYS, 13, False), (Category.BOOKS, 12, False)]
    assert [r for r in caplog.records if r.name == "odm"] == []


class Cheapest(Aggs):
    best = TopHits(Product, size=3, sort=[{"price": "asc"}])


class ByBand(Aggs):
    bands = Range(Product.price, ranges=[{"to": 5}, {"from": 5}], aggs=Cheapest)


async def test_top_hits_raise_by_default_naming_the_hit_and_the_aggregation(products: type[Product]) -> None:
    response = await products.search().aggregate(Cheapest).extra(size=0).execute()
    with pytest.raises(HitValidationError) as caught:
        response.aggs(Cheapest)
    assert (caught.value.index, caught.value.id) == (products.index_name(), "bad1")
    assert caught.value.model == f"{products.__name__} (top hits 'best')"
    assert isinstance(caught.value.__cause__, ValidationError)


async def test_top_hits_skip_leaves_them_out_and_logs_each(
    products: type[Product], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    response = await products.search().aggregate(ByBand).on_invalid("skip").extra(size=0).execute()
    bands = response.aggs(ByBand).bands.buckets
    assert [(b.key, b.doc_count) for b in bands] == [("*-5.0", 2), ("5.0-*", 25)]
    assert bands[0].aggs.best == []  # both of that bucket's top hits are invalid: none invented
    assert [p.meta.id for p in bands[1].aggs.best] == ["p00", "p01", "p02"]
    assert response.invalid_hits == []
    messages = [r.getMessage() for r in caplog.records if r.name == "odm"]
    assert len(messages) == 2 and all(r.levelno == logging.WARNING for r in caplog.records if r.name == "odm")
    for doc_id, message in zip(["bad1", "bad2"], messages):
        assert f"hit {doc_id!r} in index {products.index_name()!r} is not a valid {products.__name__} (top hits 'best')" in message
        assert "on_invalid='skip'" in message
    assert response.aggs(ByBand) is response.aggs(ByBand) and len(caplog.records) == 2  # read (and logged) once


async def test_top_hits_collect_reports_them_on_the_response_beside_the_invalid_hits(products: type[Product]) -> None:
    response = await cheapest_first(products).aggregate(Cheapest).on_invalid("collect")[:3].execute()
    assert [p.meta.id for p in response.hits] == ["p00"]
    check_reports(products, response.invalid_hits)  # the hits, before the aggregations are read
    best = response.aggs(Cheapest).best
    assert [p.meta.id for p in best] == ["p00"]
    assert [(hit.id, hit.model) for hit in response.invalid_hits] == [
        ("bad1", products.__name__),
        ("bad2", products.__name__),
        ("bad1", f"{products.__name__} (top hits 'best')"),
        ("bad2", f"{products.__name__} (top hits 'best')"),
    ]
    top = response.invalid_hits[2]
    assert top.source == BAD["bad1"] and [(e["loc"], e["input"]) for e in top.errors] == [(("category",), "garden")]


async def test_composite_pages_collect_invalid_top_hits_on_the_search(products: type[Product]) -> None:
    class ByCategory(Sources):
        price = HistogramSource(Product.price, interval=100)

    class Pages(Aggs):
        pages = Composite(ByCategory, size=1, aggs=Cheapest)

    s = products.search().on_invalid("collect")
    pages = [page async for page in s.composite_pages(Pages)]
    assert [[p.meta.id for p in b.aggs.best] for page in pages for b in page.pages.buckets] == [["p00"]]
    assert [hit.id for hit in s.invalid_hits] == ["bad1", "bad2"]


class Categories(Aggs):
    categories = Terms(Product.category)


async def test_a_typed_bucket_key_the_field_refuses_raises_by_default_never_another_value(products: type[Product]) -> None:
    response = await products.search().aggregate(Categories).extra(size=0).execute()
    with pytest.raises(AggregationResultError, match=r"Categories\.categories\.buckets\[2\]\.key: Input should be"):
        response.aggs(Categories)


@pytest.mark.parametrize("policy", ["skip", "collect"])
async def test_skip_or_collect_leaves_a_typed_bucket_with_a_refused_key_out_and_logs_it(
    products: type[Product], caplog: pytest.LogCaptureFixture, policy: Literal["skip", "collect"]
) -> None:
    caplog.set_level(logging.WARNING, logger="odm")
    response = await products.search().aggregate(Categories).on_invalid(policy).extra(size=0).execute()
    buckets = response.aggs(Categories).categories.buckets
    assert [(b.key, b.doc_count) for b in buckets] == [(Category.TOYS, 13), (Category.BOOKS, 12)]
    assert [type(b.key) for b in buckets] == [Category, Category]
    logged = [r.getMessage() for r in caplog.records if r.name == "odm" and "bucket key" in r.getMessage()]
    assert len(logged) == 1 and "Categories.categories.buckets: bucket key 'garden'" in logged[0]
    # the raw answer is untouched: the bucket is still in the body Elasticsearch sent
    raw = response.body["aggregations"]["categories"]["buckets"]
    assert "garden" in [b["key"] for b in raw]


async def test_an_aggregation_missing_from_the_response_raises_whatever_the_policy(products: type[Product]) -> None:
    response = await products.search().on_invalid("skip").extra(size=0).execute()  # Categories not asked for
    with pytest.raises(AggregationResultError, match="is missing from the response"):
        response.aggs(Categories)
