"""Five minutes with FastAPI: one document, odm's lifespan, create, read and search endpoints.

Serve it:  ODM_ES_URL=http://127.0.0.1:9200 uvicorn readme_fastapi:app
Try it:    ODM_ES_URL=http://127.0.0.1:9200 python readme_fastapi.py  (no server: httpx calls the app)
"""

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import FastAPI, Response
from pydantic import BaseModel, Field

from odm import AsyncDocument, Keyword, Text
from odm.fastapi import (
    OdmSettings,
    create_schema,
    etag,
    install_exception_handlers,
    new_document,
    odm_lifespan,
    public_schema,
    to_public,
)

SETTINGS = OdmSettings.from_env()  # ODM_ES_URL, ODM_ES_USERNAME, ODM_ES_PASSWORD, ODM_INDEX_PREFIX, ...


class Book(AsyncDocument):
    isbn: Annotated[str, Keyword()]
    title: Annotated[str, Text()] = Field(min_length=1)
    year: int

    class Index:
        name = SETTINGS.index_name("books")
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


if TYPE_CHECKING:  # mypy cannot see classes made at run time: it checks them as BaseModel
    BookCreate = BaseModel
    BookPublic = BaseModel
else:
    BookCreate = create_schema(Book)  # the fields; a "meta" key sent by a client is dropped
    BookPublic = public_schema(Book)  # the fields and "id"

app = FastAPI(lifespan=odm_lifespan(Book, settings=SETTINGS))  # connect, create the index; close at exit
install_exception_handlers(app)  # a missing book: 404, an existing ISBN: 409, an id such as "..": 400


@app.post("/books", status_code=201, response_model=BookPublic)
async def create_book(body: BookCreate, response: Response) -> Any:
    book = new_document(Book, body)
    book.meta.id = book.isbn
    await book.save(op_type="create", refresh="wait_for")
    response.headers["ETag"] = etag(book)
    return to_public(book)


@app.get("/books/{isbn}", response_model=BookPublic)
async def read_book(isbn: str) -> Any:
    return to_public(await Book.get(isbn))


@app.get("/books", response_model=list[BookPublic])
async def search_books(q: str) -> Any:
    return [to_public(book) async for book in Book.search().query("match", title=q)[:10]]


async def main() -> None:
    """Call the app in this process, as a test does: the lifespan, then a few requests."""
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        created = await http.post("/books", json={"isbn": "9780441172719", "title": "Dune", "year": 1965})
        print("created", created.status_code, created.headers.get("ETag"))  # created 201 "0-1-<index tag>"
        print("read", (await http.get("/books/9780441172719")).json())  # {'isbn': ..., 'id': '9780441172719'}
        print("found", [book["title"] for book in (await http.get("/books", params={"q": "dune"})).json()])
        print("missing", (await http.get("/books/0000000000")).status_code)  # missing 404


if __name__ == "__main__":
    asyncio.run(main())
