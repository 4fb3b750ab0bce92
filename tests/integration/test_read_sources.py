"""Hits whose ``_source`` is not the stored one are never taken for whole documents (review R2).

A model built from less than the stored ``_source`` (none at all, a source filtered by a
search parameter, a synthetic source rebuilt from doc values, a source without its
vectors) must be marked ``meta.partial_source``, so that ``save()`` refuses it instead of
writing defaults over the stored fields. And a document read as a collapse member carries
its concurrency tokens, so that saving it back cannot overwrite a newer version.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, AsyncSearch, DenseVector, DocumentStateError, InnerHit, Keyword, VersionConflictError
from odm.aggs import Aggs, TopHits
from odm.testing.isolation import isolated

STORED = {"title": "hello", "tags": ["b", "a", "a"], "views": 5, "vec": [1.0, 2.0, 3.0]}


class Note(AsyncDocument):
    """Every field has a default: a model can be built from an empty source."""

    title: str = ""
    tags: Annotated[list[str], Keyword()] = []
    views: int = 0
    vec: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm")] | None = None

    class Index:
        name = "notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class PlainNote(AsyncDocument):
    """No vector and no unknown fields kept: its searches send no ``_source`` of their own."""

    title: str = ""
    group: Annotated[str, Keyword()] = "none"
    views: int = 0

    class Index:
        name = "plain-notes"
        keep_unknown_fields = False
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def notes(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Note]:
    bound = isolated(Note, index_prefix)
    await bound.init()
    await odm_client.index(index=bound.index_name(), id="n1", document=STORED, refresh=True)
    return bound


@pytest.fixture
async def plain(odm_client: AsyncElasticsearch, index_prefix: str) -> type[PlainNote]:
    bound = isolated(PlainNote, index_prefix)
    await bound.init()
    for n in (1, 2):
        await odm_client.index(index=bound.index_name(), id=f"p{n}", document={"title": f"t{n}", "group": "g", "views": n})
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


async def stored_source(client: AsyncElasticsearch, index: str, doc_id: str) -> Any:
    return (await client.get(index=index, id=doc_id, source_exclude_vectors=False))["_source"]


@pytest.mark.parametrize(
    "params",
    [
        {"source_includes": ["title"]},
        {"source_excludes": ["tags"]},
        {"source_exclude_vectors": True},
        {"force_synthetic_source": True},  # rebuilt from doc values: title dropped, tags deduplicated
    ],
    ids=["source_includes", "source_excludes", "source_exclude_vectors", "force_synthetic_source"],
)
async def test_search_params_that_change_the_source_give_partial_models(
    odm_client: AsyncElasticsearch, notes: type[Note], params: dict[str, Any]
) -> None:
    [hit] = (await notes.search().params(**params).execute()).hits
    assert hit.meta.partial_source, params
    with pytest.raises(DocumentStateError):
        await hit.save()
    assert await stored_source(odm_client, notes.index_name(), "n1") == STORED


async def test_hits_without_a_source_are_partial_models(odm_client: AsyncElasticsearch, plain: type[PlainNote]) -> None:
    for search in (plain.search().extra(stored_fields=["title"]), plain.search().extra(stored_fields="title")):
        hits = list((await search.sort("views").execute()).hits)
        assert [h.meta.id for h in hits] == ["p1", "p2"]
        assert all(h.meta.partial_source and h.model_fields_set == set() for h in hits)
        with pytest.raises(DocumentStateError):
            await hits[0].save()
    # "_none_" leaves out _id too: the hit itself is not taken for a source
    for search in (plain.search().extra(stored_fields=["_none_"]), plain.search().extra(stored_fields="_none_")):
        hits = list((await search.execute()).hits)
        assert len(hits) == 2 and all(h.meta.partial_source and h.model_fields_set == set() for h in hits)
        assert all(h.meta.unknown_fields is None for h in hits)
    scanned = [h async for h in plain.search().extra(stored_fields=["title"]).scan()]
    assert len(scanned) == 2 and all(h.meta.partial_source for h in scanned)
    assert (await odm_client.get(index=plain.index_name(), id="p1"))["_source"] == {"title": "t1", "group": "g", "views": 1}


async def test_top_hits_without_a_source_are_partial_models(odm_client: AsyncElasticsearch, plain: type[PlainNote]) -> None:
    class Best(Aggs):
        best = TopHits(PlainNote, size=2, stored_fields=["title"], sort=[{"views": "asc"}])
        none = TopHits(PlainNote, size=2, stored_fields="_none_")

    response = await plain.search().extra(size=0).aggregate(Best).execute()
    best = response.aggs(Best).best
    assert [h.meta.id for h in best] == ["p1", "p2"]
    assert all(h.meta.partial_source for h in best + response.aggs(Best).none)
    with pytest.raises(DocumentStateError):
        await best[0].save(index=plain.index_name())
    assert (await odm_client.get(index=plain.index_name(), id="p1"))["_source"] == {"title": "t1", "group": "g", "views": 1}


async def test_a_collapse_member_saved_after_a_newer_write_is_a_conflict(
    odm_client: AsyncElasticsearch, plain: type[PlainNote]
) -> None:
    s = plain.search().collapse("group", inner_hits={"name": "all", "size": 5, "sort": ["views"]})
    [group] = (await s.execute()).hits
    assert group.meta.inner_hits is not None
    first = group.meta.inner_hits["all"].of(plain)[0].doc
    assert first.meta.id == "p1" and first.meta.seq_no is not None and first.meta.primary_term is not None
    await odm_client.update(index=plain.index_name(), id="p1", doc={"views": 100}, refresh=True)  # a newer write
    first.title = "stale"
    with pytest.raises(VersionConflictError):
        await first.save()
    assert (await odm_client.get(index=plain.index_name(), id="p1"))["_source"]["views"] == 100


class OtherNote(AsyncDocument):
    """Another class in the same search: its documents must not be read as ``PlainNote``."""

    title: str = ""
    group: Annotated[str, Keyword()] = "none"
    views: int = 0
    colour: str = "red"

    class Index:
        name = "other-notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def test_collapse_members_of_a_search_of_several_classes_are_read_as_their_own_class(
    odm_client: AsyncElasticsearch, plain: type[PlainNote], index_prefix: str
) -> None:
    other = isolated(OtherNote, index_prefix)
    await other.init()
    await odm_client.index(index=other.index_name(), id="o1", document={"title": "o", "group": "g", "views": 0}, refresh=True)
    s = AsyncSearch[Any](index=[plain.index_name(), other.index_name()], doc_type=[plain, other])
    [group] = (await s.sort("views").collapse("group", inner_hits={"name": "all", "size": 5, "sort": ["views"]}).execute()).hits
    assert group.meta.inner_hits is not None
    members = {hit.meta.id: hit.doc for hit in group.meta.inner_hits["all"] if isinstance(hit, InnerHit)}
    assert set(members) == {"o1", "p1", "p2"}
    assert type(members["o1"]) is other and type(members["p1"]) is plain  # not a PlainNote of defaults
    await members["p1"].save()  # written back as itself: no OtherNote default invented in it
    assert (await odm_client.get(index=plain.index_name(), id="p1"))["_source"] == {"title": "t1", "group": "g", "views": 1}
