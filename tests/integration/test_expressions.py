"""Every field-expression form finds the right documents on the real node."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl import query

from odm import A, AsyncSearch, Q
from odm.testing.isolation import isolated
from tests.models.blog import Author, Comment, Post
from tests.models.catalog import Product, Review, Status, Variant

WHEN = datetime(2026, 11, 24, 12, 0)
ANN = Author(name="Ann Lee", email="ann@example.com")
BOB = Author(name="Bob Stone", email="bob@example.com")


def comment(author: str) -> Comment:
    return Comment(author=author, body=f"{author} says hi", created_at=WHEN)


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    rows = [
        ("Hello world", "alpha beta", ["python", "search"], ANN, [comment("ann")]),
        ("Hello again", "", ["python"], BOB, [comment("bob")]),
        ("Rust notes", "beta", ["rust"], None, []),
        ("Python tips", "gamma", ["python", "tips"], ANN, [comment("bob"), comment("ann")]),
        ("Search engines", "", [], Author(name="Carl", email="carl@example.com"), [comment("carl")]),
    ]
    for n, (title, body, tags, author, comments) in enumerate(rows):
        document = bound(
            title=title,
            body=body,
            tags=tags,
            author=author,
            comments=comments,
            views=5 * n,
            created_at=WHEN + timedelta(days=n),
            meta={"id": f"p{n}"},
        )
        await document.save(refresh=n == len(rows) - 1)
    return bound


async def ids(search: AsyncSearch[Post]) -> set[str]:
    return {str(hit.meta.id) async for hit in search[:50]}


Form = Callable[[type[Post]], query.Query]

COMPARISONS: list[tuple[str, Form, set[str]]] = [
    (">", lambda P: P.views > 10, {"p3", "p4"}),
    (">=", lambda P: P.views >= 10, {"p2", "p3", "p4"}),
    ("<", lambda P: P.views < 5, {"p0"}),
    ("<=", lambda P: P.views <= 5, {"p0", "p1"}),
    ("between", lambda P: P.views.between(5, 15), {"p1", "p2", "p3"}),
    ("date >", lambda P: P.created_at > WHEN + timedelta(days=2), {"p3", "p4"}),
    ("== on a keyword list", lambda P: P.tags == "python", {"p0", "p1", "p3"}),
    ("value == field", lambda P: "rust" == P.tags, {"p2"}),
    ("!=", lambda P: P.tags != "python", {"p2", "p4"}),
    ("in_", lambda P: P.tags.in_(["rust", "tips"]), {"p2", "p3"}),
    ("== on text uses the keyword sub-field", lambda P: P.title == "Hello world", {"p0"}),
    ("range on text uses the keyword sub-field", lambda P: P.title >= "R", {"p2", "p4"}),
    ("match", lambda P: P.title.match("hello"), {"p0", "p1"}),
    ("match with options", lambda P: P.body.match("alpha beta", operator="and"), {"p0"}),
    ("prefix", lambda P: P.tags.prefix("ti"), {"p3"}),
    ("prefix on a sub-field", lambda P: P.title.raw.prefix("Hel"), {"p0", "p1"}),
    ("exists", lambda P: P.author.exists(), {"p0", "p1", "p3", "p4"}),
    ("== None", lambda P: P.author == None, {"p2"}),  # noqa: E711
    ("object path", lambda P: P.author.name.raw == "Ann Lee", {"p0", "p3"}),
    ("object path match", lambda P: P.author.name.match("stone"), {"p1"}),
    ("object keyword", lambda P: P.author.email == "carl@example.com", {"p4"}),
    ("nested ==", lambda P: P.comments.author == "ann", {"p0", "p3"}),
    ("nested !=", lambda P: P.comments.author != "ann", {"p1", "p2", "p4"}),
    ("nested match", lambda P: P.comments.body.match("carl"), {"p4"}),
    ("nested exists", lambda P: P.comments.exists(), {"p0", "p1", "p3", "p4"}),
    ("&", lambda P: (P.tags == "python") & (P.views > 0), {"p1", "p3"}),
    ("|", lambda P: (P.tags == "rust") | (P.views >= 20), {"p2", "p4"}),
    ("~", lambda P: ~(P.tags == "python"), {"p2", "p4"}),
    ("with Q", lambda P: Q("match", title="hello") & (P.comments.author == "bob"), {"p1"}),
]


async def test_every_comparison_finds_its_documents(posts: type[Post]) -> None:
    found = {name: await ids(posts.search().filter(form(posts))) for name, form, _ in COMPARISONS}
    assert found == {name: expected for name, _, expected in COMPARISONS}


async def test_query_filter_and_exclude_take_expressions(posts: type[Post]) -> None:
    s = posts.search().query(posts.title.match("hello")).filter(posts.views >= 0).exclude(posts.tags == "search")
    assert await ids(s) == {"p1"}


async def test_sort_by_expressions(posts: type[Post]) -> None:
    by_views = [hit.meta.id async for hit in posts.search().sort(-posts.views)]
    by_title = [hit.meta.id async for hit in posts.search().sort(+posts.title.raw)]
    assert by_views == ["p4", "p3", "p2", "p1", "p0"]
    assert by_title == ["p1", "p0", "p3", "p2", "p4"]


async def test_source_highlight_and_collapse_take_expressions(posts: type[Post]) -> None:
    partial = [hit async for hit in posts.search().source([posts.title, posts.views]).filter(posts.views == 10)]
    assert [(hit.title, hit.views, hit.tags) for hit in partial] == [("Rust notes", 10, [])]

    highlighted = [hit async for hit in posts.search().query(posts.body.match("gamma")).highlight(posts.body)]
    assert [hit.meta.highlight for hit in highlighted] == [{"body": ["<em>gamma</em>"]}]

    collapsed = posts.search().filter(posts.author.exists()).collapse(posts.author.name.raw).sort(+posts.views)
    assert [hit.meta.id async for hit in collapsed] == ["p0", "p1", "p4"]


async def test_aggregations_take_expressions(posts: type[Post]) -> None:
    s = posts.search().extra(size=0)
    s.aggs.bucket("tags", A("terms", field=posts.tags)).metric("most", A("max", field=posts.views))
    response = await s.execute()
    buckets = {b.key: (b.doc_count, b.most.value) for b in response.aggregations.tags.buckets}
    assert buckets == {"python": (3, 15.0), "rust": (1, 10.0), "search": (1, 0.0), "tips": (1, 15.0)}


@pytest.fixture
async def products(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Product]:
    bound = isolated(Product, index_prefix)
    await bound.init()
    rows = [
        (Status.LIVE, {"red": 2}, [Variant(color="red", reviews=[Review(stars=5, by="ann")])]),
        (Status.DRAFT, {"red": 1, "blue": 4}, [Variant(color="blue", reviews=[Review(stars=2, by="bob")])]),
        (Status.LIVE, {}, [Variant(color="red", reviews=[Review(stars=2, by="ann"), Review(stars=3, by="bob")])]),
    ]
    for n, (status, counts, variants) in enumerate(rows):
        product = bound(
            sku=uuid.UUID(int=n),
            name=f"Mug {n}",
            productCode=f"M-{n}",
            status=status,
            released=WHEN + timedelta(days=n) if n else None,
            price=n + 0.5,
            counts=counts,
            variants=variants,
            meta={"id": f"m{n}"},
        )
        await product.save(refresh=n == len(rows) - 1)
    return bound


PRODUCT_FORMS: list[tuple[str, Callable[[type[Product]], query.Query], set[str]]] = [
    ("enum", lambda P: P.status == Status.LIVE, {"m0", "m2"}),
    ("enum in_", lambda P: P.status.in_([Status.DRAFT]), {"m1"}),
    ("uuid", lambda P: P.sku == uuid.UUID(int=1), {"m1"}),
    ("alias", lambda P: P.code == "M-2", {"m2"}),
    ("optional datetime", lambda P: P.released < WHEN + timedelta(days=2), {"m1"}),
    ("missing optional", lambda P: P.released == None, {"m0"}),  # noqa: E711
    ("float", lambda P: P.price > 1.0, {"m1", "m2"}),
    ("dict key", lambda P: P.counts.red >= 2, {"m0"}),
    ("first keyword sub-field", lambda P: P.name == "Mug 1", {"m1"}),
    ("nested in nested", lambda P: P.variants.reviews.stars > 4, {"m0"}),
    ("nested keyword", lambda P: P.variants.color == "red", {"m0", "m2"}),
]


async def test_typed_values_and_deeper_paths(products: type[Product]) -> None:
    found = {}
    for name, form, _ in PRODUCT_FORMS:
        found[name] = {str(hit.meta.id) async for hit in products.search().filter(form(products))[:50]}
    assert found == {name: expected for name, _, expected in PRODUCT_FORMS}
