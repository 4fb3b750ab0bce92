"""Index names judged as Elasticsearch judges them, and errors that can be caught and printed.

Each test checks the node afterwards: nothing was created or written by a refused call.
"""

from __future__ import annotations

from typing import Annotated

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    AliasNotFoundError,
    AsyncDocument,
    AsyncFacetedSearch,
    AsyncIndex,
    AsyncMultiSearch,
    AsyncSearch,
    AsyncUpdateByQuery,
    DocumentValidationError,
    InvalidIndexNameError,
    Keyword,
    NoIndexError,
    OdmError,
    TermsFacet,
)
from odm.testing.isolation import isolated


class Note(AsyncDocument):
    title: Annotated[str, Keyword()] = ""

    class Index:
        name = "notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def notes(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Note]:
    bound = isolated(Note, index_prefix)
    await bound.init()
    await bound(title="kept", meta={"id": "n1"}).save(refresh="wait_for")
    return bound


@pytest.mark.parametrize("name", ["notesÉ", "notesİ", "Notes"])
async def test_upper_case_index_names_are_refused_as_elasticsearch_judges_them(
    odm_client: AsyncElasticsearch, index_prefix: str, name: str
) -> None:
    with pytest.raises(InvalidIndexNameError, match="must be lower case"):
        await Note(title="x").save(index=index_prefix + name)
    with pytest.raises(InvalidIndexNameError, match="must be lower case"):
        await AsyncIndex(index_prefix + name, using=odm_client).create()
    assert not (await odm_client.indices.get(index=index_prefix + "*")).body


async def test_an_upper_case_alias_is_accepted_as_elasticsearch_accepts_it(
    odm_client: AsyncElasticsearch, notes: type[Note], index_prefix: str
) -> None:
    alias = index_prefix + "Notes-Read"
    await AsyncIndex(notes.index_name(), using=odm_client).put_alias(name=alias)
    assert [hit.title async for hit in notes.search(index=alias)] == ["kept"]


@pytest.mark.parametrize("index", ["", " ", [], ",", [","], ["notes,"], "no?tes"])
async def test_empty_blank_and_malformed_index_values_are_refused_for_every_call_that_takes_one(
    odm_client: AsyncElasticsearch, notes: type[Note], index: str | list[str]
) -> None:
    with pytest.raises((InvalidIndexNameError, NoIndexError)):
        await AsyncSearch(using=odm_client, index=index).count()
    with pytest.raises((InvalidIndexNameError, NoIndexError)):
        await notes.search(index=index).delete()
    with pytest.raises((InvalidIndexNameError, NoIndexError)):
        await AsyncUpdateByQuery(using=odm_client, index=index).execute()
    with pytest.raises((InvalidIndexNameError, NoIndexError)):
        await AsyncMultiSearch(using=odm_client).add(notes.search(index=index)).execute()

    class Titles(AsyncFacetedSearch[Note]):
        doc_types = [notes]
        facets = {"title": TermsFacet(field="title")}

    Titles.index = index  # type: ignore[assignment]
    Titles.using = odm_client
    with pytest.raises((InvalidIndexNameError, NoIndexError)):
        await Titles().execute()
    assert await notes.exists("n1")  # nothing was deleted anywhere


async def test_a_lone_surrogate_is_a_document_validation_error_and_nothing_is_written(
    odm_client: AsyncElasticsearch, notes: type[Note]
) -> None:
    broken = notes(title="a\ud800b", meta={"id": "s1"})
    with pytest.raises(DocumentValidationError, match="s1"):
        await broken.save()
    stored = await notes.get("n1")
    with pytest.raises(DocumentValidationError, match="n1"):
        await stored.update(title="x\udc00")
    result = await notes.bulk([broken])
    assert isinstance(result.failed[0].error, DocumentValidationError)
    assert not await notes.exists("s1") and (await notes.get("n1")).title == "kept"


async def test_a_missing_alias_is_an_error_that_can_be_printed(odm_client: AsyncElasticsearch, notes: type[Note]) -> None:
    with pytest.raises(AliasNotFoundError) as caught:
        await AsyncIndex(notes.index_name(), using=odm_client).delete_alias(name="a1,a2")
    text = str(caught.value)  # the client's own error raises TypeError here
    assert "a1,a2" in text and "aliases_not_found_exception" in text
    assert isinstance(caught.value, elasticsearch.NotFoundError) and isinstance(caught.value, OdmError)
    assert isinstance(caught.value.__cause__, elasticsearch.NotFoundError)
