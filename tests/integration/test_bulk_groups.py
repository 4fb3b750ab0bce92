"""A bulk of a list is encoded in groups, a generator's inputs one by one: both store exactly what they were given.

``bulk()`` encodes the inputs of a sequence ``_GROUP`` at a time, one serializer call for
the documents of a class (tests/unit/test_encode_many.py holds the bytes to those of
each input alone). A generator's inputs are encoded as they come, so one yielding the
same instance again, changed, stores each version.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import DocumentValidationError, IndexAction
from odm.bulk._run import _GROUP
from odm.testing.isolation import isolated
from tests.integration.test_bulk import posts  # noqa: F401  # the bound Post class, its index made
from tests.models.blog import Author, Comment, Post
from tests.models.parity import Product

WHEN = datetime(2026, 11, 24, 12, 0, 30, 123456, tzinfo=timezone.utc)


@pytest.fixture
async def products(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Product]:
    bound = isolated(Product, index_prefix)
    await bound.init()
    return bound


async def stored(client: AsyncElasticsearch, index: str | None, ids: list[Any]) -> list[dict[str, Any]]:
    answer = await client.mget(index=index, ids=ids)
    assert all(doc["found"] for doc in answer["docs"]), [doc["_id"] for doc in answer["docs"] if not doc["found"]]
    return [doc["_source"] for doc in answer["docs"]]


async def test_a_list_of_two_classes_is_stored_document_for_document(
    odm_client: AsyncElasticsearch, posts: type[Post], products: type[Product]
) -> None:
    count = 3 * _GROUP + 7  # groups, and a last one short
    inputs: list[Any] = []
    for n in range(count):
        if n % 3 == 0:
            inputs.append(products(sku=f"sku-{n}", name=f"product {n}", price=n / 4))
        else:
            inputs.append(posts(
                title=f"post {n} \"quoted\" é", tags=[f"t{n}"], author=Author(name="ann", email="a@x"),
                comments=[Comment(author="bob", body=str(n), created_at=WHEN)], views=n, created_at=WHEN,
            ))
    invalid = {5, _GROUP + 1, 2 * _GROUP}  # changed in place past validation: refused, the others go
    for n in invalid:
        inputs[n].tags.append(n)

    result = await posts.bulk(inputs, refresh=True)

    assert sorted(failure.position for failure in result.failed) == sorted(invalid)
    assert all(isinstance(failure.error, DocumentValidationError) for failure in result.failed)
    assert [success.position for success in result.succeeded] == [n for n in range(count) if n not in invalid]
    written = [document for n, document in enumerate(inputs) if n not in invalid]
    post_ids = [document.meta.id for document in written if isinstance(document, posts)]
    # odm's ids are time-ordered (as bytes: base64url does not sort as ASCII): given in the order of the list
    assert post_ids == sorted(post_ids, key=lambda doc_id: base64.urlsafe_b64decode(str(doc_id)))
    for cls in (posts, products):
        mine = [document for document in written if isinstance(document, cls)]
        sources = await stored(odm_client, cls.__odm__.name, [document.meta.id for document in mine])
        kept_as_id = {"sku"} if cls is products else set()  # Product's id field is stored as _id alone
        assert sources == [document.model_dump(mode="json", by_alias=True, exclude={"meta"} | kept_as_id) for document in mine]
    assert (await odm_client.count(index=posts.__odm__.name))["count"] == len(post_ids)


async def test_a_generator_yielding_one_instance_changed_stores_every_version(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    document = posts(title="first", created_at=WHEN)

    def versions() -> Iterator[IndexAction[Post]]:
        for n in range(3 * _GROUP):
            document.title, document.views, document.meta.id = f"version {n}", n, f"v-{n}"
            yield IndexAction(document)

    result = await posts.bulk(versions(), refresh=True)

    assert result.ok and len(result.succeeded) == 3 * _GROUP
    sources = await stored(odm_client, posts.__odm__.name, [f"v-{n}" for n in range(3 * _GROUP)])
    assert [(source["title"], source["views"]) for source in sources] == [(f"version {n}", n) for n in range(3 * _GROUP)]


async def test_an_async_generator_yielding_one_instance_changed_stores_every_version(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    document = posts(title="first", created_at=WHEN)

    async def versions() -> AsyncIterator[Post]:
        for n in range(_GROUP + 3):
            document.title, document.meta.id = f"version {n}", f"a-{n}"
            yield document

    assert (await posts.bulk(versions(), refresh=True)).ok
    sources = await stored(odm_client, posts.__odm__.name, [f"a-{n}" for n in range(_GROUP + 3)])
    assert [source["title"] for source in sources] == [f"version {n}" for n in range(_GROUP + 3)]


async def test_stop_on_invalid_with_a_list_gives_no_id_to_a_document_after_the_invalid_one(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    inputs = [posts(title=str(n), created_at=WHEN) for n in range(10)]
    inputs[4].tags.append(4)  # type: ignore[arg-type]

    result = await posts.bulk(inputs, refresh=True, stop_on_invalid=True)

    assert [failure.position for failure in result.failed] == [4]
    assert [skipped.position for skipped in result.not_attempted] == list(range(5, 10))
    assert [document.meta.id is not None for document in inputs] == [True] * 4 + [False] * 6
    assert (await odm_client.count(index=posts.__odm__.name))["count"] == 4
