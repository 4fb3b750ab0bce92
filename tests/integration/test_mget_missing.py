"""``mget(missing=...)`` against the real node, as elasticsearch-dsl's ``Document.mget`` has it:
``"none"`` a None in place, ``"raise"`` DocumentNotFoundError naming every missing id,
``"skip"`` left out; a document Elasticsearch could not read is always an error."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch, NotFoundError

from odm import (
    ArgumentError,
    AsyncDocument,
    DocumentNotFoundError,
    DocumentReadError,
    HitValidationError,
    IndexNotFoundError,
    Keyword,
)
from odm.testing.isolation import isolated


class Note(AsyncDocument):
    text: Annotated[str, Keyword()]
    stars: int = 0

    class Index:
        name = "notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def notes(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Note]:
    bound = isolated(Note, index_prefix)
    await bound.init()
    for name in ("a", "b", "c"):
        await bound(text=name, meta={"id": name}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def test_none_is_the_default_and_keeps_each_position(notes: type[Note]) -> None:
    docs = await notes.mget(["b", "nope", "a"])
    assert [d.text if d else None for d in docs] == ["b", None, "a"]
    assert await notes.mget(["b", "nope"], missing="none") == docs[:2]


async def test_skip_leaves_the_missing_out_in_order(notes: type[Note]) -> None:
    docs = await notes.mget(["c", "nope", "a", "gone"], missing="skip")
    assert [(d.text, d.meta.id) for d in docs] == [("c", "c"), ("a", "a")]
    assert await notes.mget(["nope"], missing="skip") == []


async def test_raise_names_the_index_and_every_missing_id(notes: type[Note]) -> None:
    assert [d.text for d in await notes.mget(["a", "b"], missing="raise")] == ["a", "b"]
    with pytest.raises(DocumentNotFoundError) as caught:
        await notes.mget(["a", "nope", "b", "gone"], missing="raise")
    error = caught.value
    assert isinstance(error, NotFoundError) and error.meta.status == 404
    assert (error.index, error.id, error.ids) == (notes.index_name(), "nope", ["nope", "gone"])
    assert f"no documents 'nope', 'gone' in index {notes.index_name()!r}" in str(error)
    assert [doc["_id"] for doc in error.body["docs"]] == ["nope", "gone"]  # the entries as answered
    with pytest.raises(DocumentNotFoundError, match=r"no document 'nope' in index"):
        await notes.mget(["nope"], missing="raise")


async def test_a_missing_index_is_never_a_missing_document(notes: type[Note], index_prefix: str) -> None:
    for missing in ("none", "raise", "skip"):
        with pytest.raises(IndexNotFoundError):
            await notes.mget(["a"], index=index_prefix + "absent", missing=missing)


async def test_a_document_that_could_not_be_read_raises_whatever_missing_says(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    routed = isolated(Note, index_prefix + "routed-")
    name = routed.index_name()
    await odm_client.indices.create(index=name, mappings={**routed.mapping_dict(), "_routing": {"required": True}})
    await routed(text="x", meta={"id": "r1", "routing": "ann"}).save(refresh=True)
    for missing in ("none", "raise", "skip"):
        # no routing given: Elasticsearch answers an error for each document, never "not found"
        with pytest.raises(DocumentReadError, match="routing_missing_exception") as caught:
            await routed.mget(["r1", "nope"], missing=missing)
        assert (caught.value.index, caught.value.id) == (name, "r1")


async def test_an_invalid_stored_document_still_raises(odm_client: AsyncElasticsearch, notes: type[Note]) -> None:
    await odm_client.index(index=notes.index_name(), id="bad", document={"text": ["t", "u"], "stars": 1}, refresh=True)
    for missing in ("none", "raise", "skip"):
        with pytest.raises(HitValidationError, match="text"):
            await notes.mget(["a", "bad"], missing=missing)


async def test_a_wrong_missing_value_is_refused_before_anything_is_sent(notes: type[Note], index_prefix: str) -> None:
    wrong: Any = "ignore"
    with pytest.raises(ArgumentError, match="mget\\(missing=...\\) takes one of 'none', 'raise', 'skip', not 'ignore'"):
        await notes.mget(["a"], missing=wrong)
    # checked first: not even a bad index name or an empty list gets that far
    with pytest.raises(ArgumentError):
        await notes.mget([], index=index_prefix + "absent", missing=wrong)
