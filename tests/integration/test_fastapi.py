"""odm.fastapi against the real node, through httpx.ASGITransport (no server, no fake transport).

Each test builds the app from document classes bound to its index prefix, runs its
lifespan, and checks what the node holds with the raw client, not only what the API
answers. Hostile input throughout: ``meta`` in a body, ``..`` ids, stale and malformed
``If-Match``, forged and foreign cursors, invalid bodies.

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations,
and the document classes are local to :func:`make_app`.
"""

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import elasticsearch
import httpx
import pytest
from fastapi import FastAPI, Header, Query, Response
from pydantic import BaseModel, Field, ValidationError, model_validator

from odm import NO_RETRIES, AsyncDocument, CursorError, Keyword, NodeUnavailableError, Text, async_connections, get_client
from odm.fastapi import (
    OdmSettings,
    apply_if_match,
    create_schema,
    etag,
    install_exception_handlers,
    new_document,
    odm_lifespan,
    page_schema,
    paginate,
    public_schema,
    to_public,
    update_schema,
)
from odm.fastapi import pagination as pagination_module
from odm.testing import FaultProxy
from odm.testing.faults import Fault, Reject429, ResetBeforeForwarding, Unavailable503
from odm.testing.isolation import isolated

SECRET = "a test secret of 32 characters.."
OTHER_SECRET = "another secret, also long enough"


class Post(AsyncDocument):
    slug: Annotated[str, Keyword()]
    title: Annotated[str, Text(fields={"raw": Keyword()})] = Field(min_length=1)
    tags: list[Annotated[str, Keyword()]] = []
    views: int = Field(default=0, ge=0)
    data: bytes = b""

    class Index:
        name = "api-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Product(AsyncDocument):
    name: Annotated[str, Keyword()]
    price: Decimal = Field(ge=0)
    discount: Decimal = Decimal("0")

    @model_validator(mode="after")
    def _discount_within_price(self) -> "Product":
        if self.discount > self.price:
            raise ValueError("the discount must not exceed the price")
        return self

    class Index:
        name = "api-products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Unmade(AsyncDocument):
    """Never init()-ed: its index does not exist."""

    name: Annotated[str, Keyword()]

    class Index:
        name = "api-unmade"


# The schemas of the unbound classes serve their isolated subclasses too.
if TYPE_CHECKING:  # mypy cannot see classes made by create_model: it checks the bodies as BaseModel
    PostCreate = BaseModel
    PostUpdate = BaseModel
    ProductCreate = BaseModel
    ProductUpdate = BaseModel
else:
    PostCreate = create_schema(Post, client_ids=True)
    PostUpdate = update_schema(Post)
    ProductCreate = create_schema(Product, client_ids=True)
    ProductUpdate = update_schema(Product)
PostPublic = public_schema(Post, version=True)
PostPage = page_schema(PostPublic)


@dataclass
class Api:
    http: httpx.AsyncClient
    posts: type[Post]
    products: type[Product]
    app: FastAPI


def make_app(posts: type[Post], products: type[Product], unmade: type[Unmade], settings: OdmSettings) -> FastAPI:
    """A small service over the three classes (bound to the test's prefix), as a user would write it."""
    app = FastAPI(lifespan=odm_lifespan(posts, products, settings=settings))
    install_exception_handlers(app, retry_after=7)

    @app.post("/posts", status_code=201, response_model=PostPublic)
    async def create_post(body: PostCreate, response: Response) -> Any:
        post = new_document(posts, body)
        await post.save(op_type="create", refresh=True)
        response.headers["ETag"] = etag(post)
        return to_public(post, PostPublic)

    @app.get("/posts/{post_id}", response_model=PostPublic)
    async def read_post(post_id: str, response: Response) -> Any:
        post = await posts.get(post_id)
        response.headers["ETag"] = etag(post)
        return to_public(post, PostPublic)

    @app.patch("/posts/{post_id}", response_model=PostPublic)
    async def update_post(
        post_id: str,
        body: PostUpdate,
        response: Response,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Any:
        post = await posts.get(post_id)
        apply_if_match(post, if_match)
        await post.update(body.model_dump(exclude_unset=True), refresh=True)
        response.headers["ETag"] = etag(post)
        return to_public(post, PostPublic)

    @app.patch("/posts/{post_id}/strict", response_model=PostPublic)
    async def update_post_strictly(
        post_id: str,
        body: PostUpdate,
        response: Response,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Any:
        post = await posts.get(post_id)
        apply_if_match(post, if_match, required=True)  # no header: 428
        await post.update(**body.model_dump(exclude_unset=True), refresh=True)
        response.headers["ETag"] = etag(post)
        return to_public(post, PostPublic)

    @app.post("/posts/{post_id}/raced", response_model=PostPublic)
    async def raced_post(post_id: str) -> Any:
        """Loses a race on purpose: another writer changes the document between get and save."""
        post = await posts.get(post_id)
        await get_client().update(index=posts.index_name(), id=post_id, doc={"views": post.views + 100})
        post.views += 1
        await post.save()
        return to_public(post, PostPublic)

    @app.delete("/posts/{post_id}", status_code=204)
    async def delete_post(post_id: str, if_match: Annotated[str | None, Header()] = None) -> None:
        post = await posts.get(post_id)
        apply_if_match(post, if_match)
        await post.delete(refresh=True)

    @app.get("/posts", response_model=PostPage)
    async def list_posts(
        cursor: str | None = None, size: Annotated[int, Query(ge=1, le=100)] = 20, tag: str | None = None
    ) -> Any:
        search = posts.search().sort("-views")
        if tag is not None:
            search = search.filter("term", tags=tag)
        page = await paginate(search, cursor, size=size, secret=SECRET, tiebreaker="slug")
        return {"items": [to_public(post, PostPublic) for post in page.items], "next_cursor": page.next_cursor}

    @app.post("/products", status_code=201)
    async def create_product(body: ProductCreate) -> dict[str, Any]:
        product = new_document(products, body)
        await product.save(op_type="create", refresh=True)
        return {"id": product.meta.id}

    @app.patch("/products/{product_id}")
    async def update_product(product_id: str, body: ProductUpdate) -> dict[str, Any]:
        product = await products.get(product_id)
        await product.update(body.model_dump(exclude_unset=True))
        return {"id": product.meta.id}

    @app.get("/unmade/{doc_id}")
    async def read_unmade(doc_id: str) -> dict[str, Any]:
        return (await unmade.get(doc_id)).model_dump()

    return app


@pytest.fixture
async def api(es_url: str, index_prefix: str) -> AsyncIterator[Api]:
    posts, products = isolated(Post, index_prefix), isolated(Product, index_prefix)
    app = make_app(posts, products, isolated(Unmade, index_prefix), OdmSettings(url=es_url, startup_timeout=10))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Api(http, posts, products, app)


async def stored(index: str, doc_id: str) -> dict[str, Any]:
    """The raw document on the node: _index, _id, _source, _routing..."""
    return dict((await get_client().get(index=index, id=doc_id)).body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- 1. the lifespan -----------------------------------------------------------------------------


async def test_lifespan_creates_the_indices_and_closes_its_client(es_url: str, index_prefix: str) -> None:
    posts, products = isolated(Post, index_prefix), isolated(Product, index_prefix)
    app = FastAPI(lifespan=odm_lifespan(posts, products, settings=OdmSettings(url=es_url)))
    async with app.router.lifespan_context(app):
        client = get_client()
        assert await client.indices.exists(index=posts.index_name())
        mapping = await client.indices.get_mapping(index=products.index_name())
        assert mapping[products.index_name()]["mappings"]["properties"]["price"]["type"] == "double"
    assert "default" not in async_connections._conns  # closed and unregistered


async def test_lifespan_of_several_workers_starting_at_once(es_url: str, index_prefix: str) -> None:
    posts = isolated(Post, index_prefix)
    settings = OdmSettings(url=es_url)
    lifespans = [odm_lifespan(posts, settings=settings, alias=f"worker-{n}")(None) for n in range(6)]
    await asyncio.gather(*(lifespan.__aenter__() for lifespan in lifespans))  # all race to create the index
    try:
        client = get_client("worker-0")
        assert await client.indices.exists(index=posts.index_name())
        live = (await client.indices.get_mapping(index=posts.index_name()))[posts.index_name()]["mappings"]
        assert live["properties"].keys() == posts.mapping_dict()["properties"].keys()
    finally:
        for lifespan in lifespans:
            await lifespan.__aexit__(None, None, None)
    assert not [alias for alias in async_connections._conns if alias.startswith("worker-")]


async def test_lifespan_waits_for_a_node_that_is_still_starting(es_url: str, index_prefix: str) -> None:
    posts = isolated(Post, index_prefix)
    starting: list[Fault] = [Unavailable503(count=3, path=r"^/_cluster/health")]  # a node without a master yet
    async with FaultProxy(es_url, seed=1, faults=starting) as proxy:
        lifespan = odm_lifespan(posts, settings=OdmSettings(url=proxy.url, startup_timeout=10))
        async with lifespan(None):
            assert await get_client().indices.exists(index=posts.index_name())
        assert proxy.stats.injected["unavailable_503"] == 3


async def test_lifespan_fails_in_bounded_time_naming_the_url_without_its_password() -> None:
    port = free_port()
    settings = OdmSettings(url=f"http://ops:hunter2-secret@127.0.0.1:{port}", startup_timeout=0.6)
    app = FastAPI(lifespan=odm_lifespan(Post, settings=settings))
    started = time.monotonic()
    with pytest.raises(NodeUnavailableError) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert time.monotonic() - started < 3
    assert f"http://ops:***@127.0.0.1:{port}" in str(caught.value) and "hunter2" not in str(caught.value)
    assert caught.value.url == f"http://ops:***@127.0.0.1:{port}"
    assert isinstance(caught.value, ConnectionError)
    assert "default" not in async_connections._conns


async def test_lifespan_reads_the_environment_at_start_up(
    es_url: str, index_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = isolated(Post, index_prefix)
    lifespan = odm_lifespan(posts)  # settings are read when the app starts, not here
    monkeypatch.setenv("ODM_ES_URL", es_url)
    monkeypatch.setenv("ODM_ES_TIMEOUT", "12.5")
    async with lifespan(None):
        assert await get_client().indices.exists(index=posts.index_name())


# -- 2. schemas, meta injection, ids -------------------------------------------------------------


async def test_a_client_cannot_choose_meta(api: Api) -> None:
    body = {
        "slug": "s1", "title": "Hello",
        "meta": {"id": "admin", "index": "someone-elses-index", "routing": "x", "seq_no": 0, "primary_term": 1},
    }
    answer = await api.http.post("/posts", json=body)
    assert answer.status_code == 201, answer.text
    doc_id = answer.json()["id"]
    assert doc_id != "admin" and "meta" not in answer.json()
    raw = await stored(api.posts.index_name(), doc_id)
    assert raw["_index"] == api.posts.index_name() and raw["_id"] == doc_id
    assert "_routing" not in raw and "meta" not in raw["_source"]
    assert not await get_client().indices.exists(index="someone-elses-index")
    assert not await get_client().exists(index=api.posts.index_name(), id="admin")


async def test_create_with_a_client_id_and_hostile_ids(api: Api) -> None:
    created = await api.http.post("/posts", json={"id": "p1", "slug": "p1", "title": "One"})
    assert created.status_code == 201 and created.json()["id"] == "p1"
    assert created.headers["ETag"].startswith(f'"{created.json()["version"] - 1}-1-')  # first write: seq_no 0
    again = await api.http.post("/posts", json={"id": "p1", "slug": "p1", "title": "Other"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    dots = await api.http.post("/posts", json={"id": "..", "slug": "x", "title": "x"})
    assert dots.status_code == 422 and dots.json()["detail"][0]["loc"] == ["body", "id"]
    in_path = await api.http.get("/posts/%2E%2E")  # the route sees "..": InvalidIdError
    assert in_path.status_code == 400 and "'..'" in in_path.json()["detail"]
    assert await get_client().indices.exists(index=api.posts.index_name())  # still there


async def test_bytes_travel_as_standard_base64(api: Api) -> None:
    data = bytes([0, 250, 251, 252, 253, 254, 255])
    encoded = base64.b64encode(data).decode()  # has "+" and "/": not the URL-safe alphabet
    answer = await api.http.post("/posts", json={"id": "b1", "slug": "b1", "title": "Bytes", "data": encoded})
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"] == encoded
    assert (await stored(api.posts.index_name(), "b1"))["_source"]["data"] == encoded
    assert (await api.posts.get("b1")).data == data


async def test_read_missing_document_is_404_and_missing_index_is_500(api: Api) -> None:
    missing = await api.http.get("/posts/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "no document 'nope'"}
    unmade = await api.http.get("/unmade/u1")
    assert unmade.status_code == 500
    assert "deployment error" in unmade.json()["detail"] and "index" in unmade.json()["detail"]


async def test_a_stored_document_the_model_refuses_is_500_naming_it(api: Api) -> None:
    await get_client().index(
        index=api.posts.index_name(), id="bad1", document={"slug": "bad1", "title": "x", "views": -5}, refresh=True
    )
    answer = await api.http.get("/posts/bad1")
    assert answer.status_code == 500 and "'bad1'" in answer.json()["detail"]
    assert "-5" not in answer.text  # stored data stays in the server log


async def test_openapi_shows_the_derived_schemas_without_meta(api: Api) -> None:
    schemas = api.app.openapi()["components"]["schemas"]
    create, update, public = schemas["PostCreate"], schemas["PostUpdate"], schemas["PostPublic"]
    for schema in (create, update, public):
        assert "meta" not in schema["properties"]
        assert schema.get("additionalProperties") is not True
    assert set(create["required"]) == {"slug", "title"} and "id" in create["properties"]
    assert "required" not in update and "default" not in update["properties"]["title"]
    assert update["properties"]["views"]["minimum"] == 0 and update["properties"]["title"]["minLength"] == 1
    assert "id" in public["required"] and "version" in public["properties"]


# -- 3. preconditions and error answers ------------------------------------------------------------


async def test_if_match_makes_writes_conditional(api: Api) -> None:
    await api.http.post("/posts", json={"id": "e1", "slug": "e1", "title": "Tagged"})
    read = await api.http.get("/posts/e1")
    first = read.headers["ETag"]
    changed = await api.http.patch("/posts/e1", json={"views": 3}, headers={"If-Match": first})
    assert changed.status_code == 200 and changed.json()["views"] == 3
    second = changed.headers["ETag"]
    assert second != first

    stale = await api.http.patch("/posts/e1", json={"views": 99}, headers={"If-Match": first})
    assert stale.status_code == 412 and "If-Match" in stale.json()["detail"]
    assert (await stored(api.posts.index_name(), "e1"))["_source"]["views"] == 3  # nothing written

    term_zero = second.replace("-1-", "-0-")
    # RFC 9110: a weak ETag never matches a write, nor does one of another version: 412, nothing written.
    for never in (f"W/{second}", '"1-1", "2-1"', f'"{second[1:].split("-")[0]}-0"', term_zero,
                  '"99999999999999999999-1"', '"abc"'):
        refused = await api.http.patch("/posts/e1", json={"views": 98}, headers={"If-Match": never})
        assert refused.status_code == 412 and "If-Match" in refused.json()["detail"], never
    for malformed in ("1-1", '"1-1', f"{second} junk"):
        refused = await api.http.patch("/posts/e1", json={"views": 98}, headers={"If-Match": malformed})
        assert refused.status_code == 400, malformed
    assert (await stored(api.posts.index_name(), "e1"))["_source"]["views"] == 3
    listed = await api.http.patch("/posts/e1", json={"views": 5}, headers={"If-Match": f'W/"x", {first}, {second}'})
    assert listed.status_code == 200 and listed.json()["views"] == 5  # one member is the current version
    second = listed.headers["ETag"]
    required = await api.http.patch("/posts/e1/strict", json={"views": 6})
    assert required.status_code == 428 and "If-Match" in required.json()["detail"]
    strict = await api.http.patch("/posts/e1/strict", json={"views": 6}, headers={"If-Match": second})
    assert strict.status_code == 200 and strict.json()["views"] == 6
    assert (await stored(api.posts.index_name(), "e1"))["_source"]["views"] == 6
    anything = await api.http.patch("/posts/e1", json={"views": 4}, headers={"If-Match": "*"})
    assert anything.status_code == 200

    stale_delete = await api.http.delete("/posts/e1", headers={"If-Match": second})
    assert stale_delete.status_code == 412
    deleted = await api.http.delete("/posts/e1", headers={"If-Match": anything.headers["ETag"]})
    assert deleted.status_code == 204
    assert (await api.http.get("/posts/e1")).status_code == 404


async def test_a_lost_race_without_if_match_is_409(api: Api) -> None:
    await api.http.post("/posts", json={"id": "r1", "slug": "r1", "title": "Raced"})
    answer = await api.http.post("/posts/r1/raced")
    assert answer.status_code == 409 and "changed by another request" in answer.json()["detail"]
    assert (await stored(api.posts.index_name(), "r1"))["_source"]["views"] == 100  # the other writer's


async def test_invalid_bodies_are_422_with_json_safe_errors(api: Api) -> None:
    made = await api.http.post("/products", json={"id": "d1", "name": "Desk", "price": "10.50"})
    assert made.status_code == 201, made.text

    # Refused by the update schema: FastAPI's own 422 (Decimal bounds in ctx).
    negative = await api.http.patch("/products/d1", json={"price": "-1"})
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "price"]

    # Valid field by field, but the whole document is not: DocumentValidationError, 422.
    too_much = await api.http.patch("/products/d1", json={"discount": "50.25"})
    assert too_much.status_code == 422, too_much.text
    [error] = too_much.json()["detail"]
    assert error["loc"] == ["body"] and "must not exceed the price" in error["msg"]
    assert "input" not in error and isinstance(error["ctx"]["error"], str)
    assert (await stored(api.products.index_name(), "d1"))["_source"]["discount"] == "0"  # nothing sent

    # The same check when creating: the model validator runs in new_document().
    created = await api.http.post("/products", json={"id": "d2", "name": "Chair", "price": "1", "discount": "2"})
    assert created.status_code == 422 and "must not exceed" in created.json()["detail"][0]["msg"]
    assert not await get_client().exists(index=api.products.index_name(), id="d2")

    # What the handler had to make JSON-safe: pydantic's errors hold the input and the exception.
    with pytest.raises(ValidationError) as invalid:
        Product(name="x", price=Decimal(1), discount=Decimal(2))
    with pytest.raises(TypeError):
        json.dumps(invalid.value.errors())


async def test_elasticsearch_unavailable_is_503_with_retry_after(api: Api, es_url: str) -> None:
    await api.http.post("/posts", json={"id": "u1", "slug": "u1", "title": "Up"})
    async with FaultProxy(es_url, seed=3, faults=[Reject429(path=r"/_doc/")]) as proxy:
        # odm's own retries off too (the client's max_retries no longer applies to odm's calls)
        async_connections.create_connection("default", hosts=[proxy.url], request_timeout=5, retry=NO_RETRIES)
        try:
            rejected = await api.http.get("/posts/u1")
            assert rejected.status_code == 503 and rejected.headers["Retry-After"] == "7"
            proxy.faults = [ResetBeforeForwarding(path=r"/_doc/")]
            reset = await api.http.get("/posts/u1")
            assert reset.status_code == 503 and reset.headers["Retry-After"] == "7"
            assert proxy.stats.injected["reject_429"] == 1 and proxy.stats.injected["reset_before"] >= 1
        finally:
            await async_connections.close("default")


async def test_a_write_to_a_write_blocked_index_is_503_with_retry_after(api: Api) -> None:
    """A migration's final pass blocks writes for a moment: the client is told to retry, not given a 500."""
    created = await api.http.post("/posts", json={"id": "b1", "slug": "b1", "title": "Before"})
    index = api.posts.index_name()
    client = get_client()
    await client.indices.add_block(index=index, block="write")
    try:
        blocked = await api.http.patch("/posts/b1", json={"title": "During"})
        assert blocked.status_code == 503 and blocked.headers["Retry-After"] == "7"
        assert blocked.json() == {"detail": "the resource is briefly read-only (its index is being migrated): retry later"}
        assert (await api.http.get("/posts/b1")).json()["title"] == "Before"  # reads go on; nothing was written
    finally:
        await client.indices.put_settings(index=index, settings={"index.blocks.write": None})
    retried = await api.http.patch("/posts/b1", json={"title": "After"}, headers={"If-Match": created.headers["ETag"]})
    assert retried.status_code == 200 and (await stored(index, "b1"))["_source"]["title"] == "After"


# -- 4. cursor pagination ------------------------------------------------------------------------------


async def test_pages_cover_every_document_once_in_order(api: Api) -> None:
    views = {"a": 5, "b": 5, "c": 5, "d": 2, "e": 2, "f": 9, "g": 0}  # ties across page boundaries
    docs = [api.posts(slug=slug, title=slug, views=n, tags=["even" if n % 2 == 0 else "odd"], meta={"id": slug})
            for slug, n in views.items()]
    assert (await api.posts.bulk(docs, refresh=True)).ok
    expected = sorted(views, key=lambda slug: (-views[slug], slug))

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"size": 3} | ({"cursor": cursor} if cursor else {})
        page = (await api.http.get("/posts", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected  # f, a, b | c, d, e | g

    exact = (await api.http.get("/posts", params={"size": 7})).json()
    assert len(exact["items"]) == 7 and exact["next_cursor"] is None  # no empty last page


async def test_hostile_cursors_are_400(api: Api) -> None:
    docs = [api.posts(slug=s, title=s, tags=["t"], meta={"id": s}) for s in "abcd"]
    assert (await api.posts.bulk(docs, refresh=True)).ok
    cursor = (await api.http.get("/posts", params={"size": 1})).json()["next_cursor"]
    payload, signature = cursor.split(".")

    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    content["a"][-1] = "c"  # skip ahead by editing the sort values
    edited = base64.urlsafe_b64encode(json.dumps(content).encode()).rstrip(b"=").decode()
    for expected, forged in [
        ("changed", f"{edited}.{signature}"),
        ("changed", f"{payload}.{'A' * len(signature)}"),
        ("malformed", "not-a-cursor"),
        ("malformed", "!!!.???"),
        ("malformed", "x" * 5000),
        ("malformed", "é.é"),
    ]:
        answer = await api.http.get("/posts", params={"size": 1, "cursor": forged})
        assert answer.status_code == 400, (forged, answer.text)
        assert expected in answer.json()["detail"], answer.json()

    foreign = await api.http.get("/posts", params={"size": 1, "cursor": cursor, "tag": "t"})  # another filter
    assert foreign.status_code == 400 and "another query" in foreign.json()["detail"]
    bigger = await api.http.get("/posts", params={"size": 2, "cursor": cursor})  # the page size may change
    assert bigger.status_code == 200 and [p["id"] for p in bigger.json()["items"]] == ["b", "c"]


async def test_cursor_keys_rotate(api: Api) -> None:
    docs = [api.posts(slug=s, title=s, meta={"id": s}) for s in "abc"]
    assert (await api.posts.bulk(docs, refresh=True)).ok
    search = api.posts.search().sort("slug")
    first = await paginate(search, size=1, secret=SECRET, tiebreaker="slug")
    assert first.next_cursor is not None
    rotated = await paginate(search, first.next_cursor, size=1, secret=[OTHER_SECRET, SECRET], tiebreaker="slug")
    assert [post.slug for post in rotated.items] == ["b"]
    with pytest.raises(CursorError) as caught:
        await paginate(search, first.next_cursor, size=1, secret=OTHER_SECRET, tiebreaker="slug")
    assert caught.value.reason == "tampered"
    resorted = api.posts.search().sort("-slug")
    with pytest.raises(CursorError) as caught:
        await paginate(resorted, first.next_cursor, size=1, secret=SECRET, tiebreaker="slug")
    assert caught.value.reason == "foreign"
    with pytest.raises(elasticsearch.NotFoundError):  # a page of an index that is not there is no empty page
        await paginate(api.posts.search(index="nope-" + api.posts.index_name()), size=1, secret=SECRET,
                       tiebreaker="slug")


async def test_cursor_is_bound_to_its_scope(api: Api) -> None:
    docs = [api.posts(slug=s, title=s, meta={"id": s}) for s in "abc"]
    assert (await api.posts.bulk(docs, refresh=True)).ok
    search = api.posts.search().sort("slug")
    acme = await paginate(search, size=1, secret=SECRET, tiebreaker="slug", scope="acme")
    assert acme.next_cursor is not None
    same = await paginate(search, acme.next_cursor, size=1, secret=SECRET, tiebreaker="slug", scope="acme")
    assert [post.slug for post in same.items] == ["b"]
    for other in ("globex", "acme ", "", None):  # another tenant, a near miss, the empty scope, no scope
        with pytest.raises(CursorError) as caught:
            await paginate(search, acme.next_cursor, size=1, secret=SECRET, tiebreaker="slug", scope=other)
        assert caught.value.reason == "foreign" and "scope" in str(caught.value)
    unscoped = await paginate(search, size=1, secret=SECRET, tiebreaker="slug")
    with pytest.raises(CursorError) as caught:  # and an unscoped cursor does not open a scope
        await paginate(search, unscoped.next_cursor, size=1, secret=SECRET, tiebreaker="slug", scope="acme")
    assert caught.value.reason == "foreign"


async def test_cursor_expires(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [api.posts(slug=s, title=s, meta={"id": s}) for s in "abc"]
    assert (await api.posts.bulk(docs, refresh=True)).ok
    made_at = pagination_module._now()
    monkeypatch.setattr(pagination_module, "_now", lambda: made_at)
    cursor = (await api.http.get("/posts", params={"size": 1})).json()["next_cursor"]
    monkeypatch.setattr(pagination_module, "_now", lambda: made_at + 24 * 3600)  # the default: 24 hours
    assert (await api.http.get("/posts", params={"size": 1, "cursor": cursor})).status_code == 200
    monkeypatch.setattr(pagination_module, "_now", lambda: made_at + 24 * 3600 + 1)
    expired = await api.http.get("/posts", params={"size": 1, "cursor": cursor})
    assert expired.status_code == 400 and "expired" in expired.json()["detail"], expired.text

    search = api.posts.search().sort("-views")
    with pytest.raises(CursorError) as caught:
        await paginate(search, cursor, size=1, secret=SECRET, tiebreaker="slug", max_age=timedelta(minutes=5))
    assert caught.value.reason == "expired"
    kept = await paginate(search, cursor, size=1, secret=SECRET, tiebreaker="slug", max_age=None)
    assert len(kept.items) == 1

    # A cursor signed before cursors were dated (no "t") is as old as can be; a forged date is a change.
    payload, signature = cursor.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    undated = json.dumps({k: v for k, v in content.items() if k != "t"}, sort_keys=True, separators=(",", ":"))
    resigned = f"{b64(undated.encode())}.{b64(pagination_module._mac(undated.encode(), SECRET.encode()))}"
    with pytest.raises(CursorError) as caught:
        await paginate(search, resigned, size=1, secret=SECRET, tiebreaker="slug")
    assert caught.value.reason == "expired"
    content["t"] = made_at + 10 * 24 * 3600
    with pytest.raises(CursorError) as caught:
        await paginate(search, f"{b64(json.dumps(content).encode())}.{signature}", size=1, secret=SECRET,
                       tiebreaker="slug")
    assert caught.value.reason == "tampered"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
