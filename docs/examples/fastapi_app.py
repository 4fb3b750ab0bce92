"""A FastAPI service over odm: lifespan, derived schemas, error answers, ETags, cursor pages."""

import asyncio
import os
import secrets
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import FastAPI, Header, Query, Response
from pydantic import BaseModel, Field

from odm import AsyncDocument, Keyword, Text
from odm.fastapi import (
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

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")
# Signs the pagination cursors: in production, one secret shared by every worker.
CURSOR_SECRET = os.environ.get("CURSOR_SECRET") or secrets.token_hex(32)


class Post(AsyncDocument):
    slug: Annotated[str, Keyword()]  # unique: the document id, and the pagination tiebreaker
    title: Annotated[str, Text()] = Field(min_length=1)
    views: int = Field(default=0, ge=0)  # a counter: the server's

    class Index:
        name = PREFIX + "api-posts"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        server_owned = ("views",)  # shown to clients, never taken from a body


if TYPE_CHECKING:  # mypy cannot see classes made by create_model: it checks the bodies as BaseModel
    PostCreate = BaseModel
    PostUpdate = BaseModel
else:
    PostCreate = create_schema(Post)  # slug, title: no meta, no id, no views
    PostUpdate = update_schema(Post, exclude={"slug"})  # title, optional
PostPublic = public_schema(Post)  # every field, views included, and "id"
PostPage = page_schema(PostPublic)  # "items" and "next_cursor"

app = FastAPI(lifespan=odm_lifespan(Post))  # settings from ODM_ES_URL, ODM_ES_USERNAME, ...
install_exception_handlers(app)


@app.post("/posts", status_code=201, response_model=PostPublic)
async def create_post(body: PostCreate, response: Response) -> Any:
    post = new_document(Post, body)  # body["meta"], if sent, was dropped
    post.meta.id = post.slug  # "..": InvalidIdError, 400
    await post.save(op_type="create", refresh="wait_for")  # an existing slug: 409
    response.headers["ETag"] = etag(post)
    return to_public(post)


@app.get("/posts/{post_id}", response_model=PostPublic)
async def read_post(post_id: str, response: Response) -> Any:
    post = await Post.get(post_id)  # missing: 404
    response.headers["ETag"] = etag(post)
    return to_public(post)


@app.patch("/posts/{post_id}", response_model=PostPublic)
async def update_post(
    post_id: str,
    body: PostUpdate,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Any:
    post = await Post.get(post_id)
    apply_if_match(post, if_match)  # a stale ETag: 412
    await post.update(body.model_dump(exclude_unset=True))  # values, never options
    response.headers["ETag"] = etag(post)
    return to_public(post)


@app.get("/posts", response_model=PostPage)
async def list_posts(cursor: str | None = None, size: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
    search = Post.search().sort("-views")
    page = await paginate(search, cursor, size=size, secret=CURSOR_SECRET, tiebreaker="slug")
    return {"items": [to_public(post) for post in page.items], "next_cursor": page.next_cursor}


async def main() -> None:
    transport = httpx.ASGITransport(app=app)  # runs the app in this process, no server
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://api"
    ) as http:
        # "views" is the server's: a client's value is dropped (extra="forbid" would answer 422).
        bodies: list[dict[str, Any]] = [{"slug": slug, "title": slug.upper(), "views": 10**9} for slug in "abc"]
        # A client cannot choose where a document goes: "meta" is not part of the body.
        bodies.append({"slug": "d", "title": "D", "meta": {"id": "admin", "index": "other"}})
        created = await asyncio.gather(*(http.post("/posts", json=body) for body in bodies))  # one refresh
        assert [answer.status_code for answer in created] == [201] * 4
        assert created[3].json()["id"] == "d" and created[0].json()["views"] == 0
        assert (await http.post("/posts", json={"slug": "..", "title": "x"})).status_code == 400
        assert (await http.post("/posts", json={"slug": "a", "title": "again"})).status_code == 409

        read = await http.get("/posts/a")
        tag = read.headers["ETag"]  # e.g. '"0-1-3f9a0c2b1d"': seq_no, primary_term, index
        changed = await http.patch("/posts/a", json={"title": "A!", "views": 2**31}, headers={"If-Match": tag})
        assert changed.json()["title"] == "A!" and changed.json()["views"] == 0 and changed.headers["ETag"] != tag
        stale = await http.patch("/posts/a", json={"title": "A?"}, headers={"If-Match": tag})
        assert stale.status_code == 412, stale.text
        invalid = await http.patch("/posts/a", json={"title": ""})
        assert invalid.status_code == 422
        assert (await http.get("/posts/nope")).status_code == 404

        # Pages of two, by views then slug (all 0 here); the cursor is opaque and signed.
        first = (await http.get("/posts", params={"size": 2})).json()
        assert [p["id"] for p in first["items"]] == ["a", "b"]
        second = (await http.get("/posts", params={"size": 2, "cursor": first["next_cursor"]})).json()
        assert [p["id"] for p in second["items"]] == ["c", "d"] and second["next_cursor"] is None
        forged = "e30." + first["next_cursor"].split(".")[1]  # other content, the same signature
        refused = await http.get("/posts", params={"cursor": forged})
        print(refused.status_code, refused.json()["detail"])  # 400 the cursor was changed, ...


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
