"""ETags across a migration: a token read before the swap gets one 412 after it, never a silent overwrite.

The copy of a document written once has the same ``seq_no`` and ``primary_term`` in the new
index as in the old one, so an ETag of those two numbers alone matched after the swap.

No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI, Header, Response
from pydantic import BaseModel

from odm import AsyncDocument, IndexBlockedError, Keyword, Text, apply
from odm.fastapi import apply_if_match, etag, install_exception_handlers
from odm.testing.isolation import isolated


class NoteV1(AsyncDocument):
    name: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "api-notes"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class NoteV2(AsyncDocument):
    """``name`` becomes full text: a new index."""

    name: Annotated[str, Text()]
    views: int = 0

    class Index:
        name = "api-notes"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Views(BaseModel):
    views: int


def make_app(notes: type[AsyncDocument]) -> FastAPI:
    app = FastAPI()
    install_exception_handlers(app)

    @app.get("/notes/{note_id}")
    async def read(note_id: str, response: Response) -> dict[str, Any]:
        note = await notes.get(note_id)
        response.headers["ETag"] = etag(note)
        return {"views": note.views}  # type: ignore[attr-defined]

    @app.patch("/notes/{note_id}")
    async def change(
        note_id: str, body: Views, response: Response, if_match: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        note = await notes.get(note_id)
        apply_if_match(note, if_match)
        await note.update(views=body.views, refresh=True)
        response.headers["ETag"] = etag(note)
        return {"views": note.views}  # type: ignore[attr-defined]

    return app


async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        yield http


@pytest.fixture
async def notes(index_prefix: str) -> tuple[type[NoteV1], type[NoteV2]]:
    V1, V2 = isolated(NoteV1, index_prefix), isolated(NoteV2, index_prefix)
    await V1.init()
    await V1(name="first", views=1, meta={"id": "n1"}).save(refresh=True)
    return V1, V2


async def test_an_etag_from_before_a_migration_gets_one_412_after_it(
    odm_client: AsyncElasticsearch, index_prefix: str, notes: tuple[type[NoteV1], type[NoteV2]]
) -> None:
    V1, V2 = notes
    alias = V1.index_name()
    async for before in client_of(make_app(V1)):
        old_tag = (await before.get("/notes/n1")).headers["ETag"]
    loaded_before = await V1.get("n1")
    result = await apply(V2, state_index=index_prefix + "odm-migrations")
    assert (result.outcome, result.target) == ("migrated", f"{alias}-v2")
    old, new = (await odm_client.get(index=f"{alias}-v1", id="n1")), (await odm_client.get(index=alias, id="n1"))
    # The numbers alone repeat in the new index: a "<seq_no>-<primary_term>" ETag would have matched.
    assert (old["_seq_no"], old["_primary_term"]) == (new["_seq_no"], new["_primary_term"])

    async for after in client_of(make_app(V2)):
        stale = await after.patch("/notes/n1", json={"views": 99}, headers={"If-Match": old_tag})
        assert stale.status_code == 412 and "If-Match" in stale.json()["detail"]
        assert (await odm_client.get(index=alias, id="n1"))["_source"]["views"] == 1  # nothing written
        read = await after.get("/notes/n1")
        assert read.headers["ETag"] != old_tag
        fresh = await after.patch("/notes/n1", json={"views": 2}, headers={"If-Match": read.headers["ETag"]})
        assert fresh.status_code == 200 and fresh.json() == {"views": 2}

    # A document loaded before the swap goes back to the index it was read from, which the migration
    # left write-blocked: refused, never written where nobody reads it, nor over the new copy.
    with pytest.raises(IndexBlockedError):
        await loaded_before.update(views=50)
    loaded_before.views = 60
    with pytest.raises(IndexBlockedError):
        await loaded_before.save()
    assert (await odm_client.get(index=f"{alias}-v1", id="n1"))["_source"]["views"] == 1
    assert (await odm_client.get(index=alias, id="n1"))["_source"]["views"] == 2
