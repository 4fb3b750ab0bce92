"""Vectors on the real node: numpy arrays in, packed writes, and reads that ask for vectors back.

Elasticsearch 9 leaves ``dense_vector`` and ``sparse_vector`` values out of ``_source``
by default (``index.mapping.exclude_source_vectors``); each test that relies on it first
shows that a plain read of the raw client does not return the vector, so that "the
vector came back" is odm asking for it, not the index keeping it.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import ValidationError

from odm import (
    AsyncDocument,
    BulkItemError,
    CreateAction,
    DenseVector,
    DocumentExistsError,
    DocumentValidationError,
    Keyword,
    MappingError,
    SparseVector,
)
from odm.aggs import Aggs, Terms, TopHits
from odm.testing.isolation import isolated
from tests.models.embeddings import PRECISE, WEIGHTS, Embedded, Rich, rich

# Any: mypy sees the fields as list[float]; numpy arrays are taken at run time (docs/documents.md)
F32: Any = np.array([0.1, 0.2, 0.3], dtype=np.float32)


class Item(AsyncDocument):
    name: Annotated[str, Keyword()]
    vector: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm")]
    weights: Annotated[dict[str, float], SparseVector()] = {}

    class Index:
        name = "vector-items"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class PackedItem(AsyncDocument):
    name: Annotated[str, Keyword()]
    vector: Annotated[list[float], DenseVector(dims=3, similarity="l2_norm", packed=True)]

    class Index:
        name = "vector-packed"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class Named(AsyncDocument):
    """A model of another program's documents: it does not declare their vector."""

    name: Annotated[str, Keyword()]

    class Index:
        name = "vector-others"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def items(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Item]:
    bound = isolated(Item, index_prefix)
    await bound.init()
    return bound


async def _raw_source(client: AsyncElasticsearch, index: str, doc_id: str, vectors: bool | None) -> dict[str, Any]:
    """The stored ``_source`` as the raw client reads it; ``vectors=None``: as the index defaults."""
    exclude = None if vectors is None else not vectors
    answer = await client.get(index=index, id=doc_id, source_exclude_vectors=exclude)
    return dict(answer["_source"])


def _as_float32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


async def test_a_float32_array_round_trips_through_save_get_mget_search_iterate_and_scan(
    items: type[Item], odm_client: AsyncElasticsearch
) -> None:
    item = items(name="a", vector=F32, meta={"id": "a"})
    assert item.vector == [float(x) for x in F32]  # exactly the float32 values, as Python floats
    await item.save(refresh=True)
    assert "vector" not in await _raw_source(odm_client, items.index_name(), "a", vectors=False)

    loaded = await items.get("a")
    [fetched] = await items.mget(["a"])
    assert fetched is not None
    [hit] = [hit async for hit in items.search()]
    [iterated] = [hit async for hit in items.search().iterate()]
    [scanned] = [hit async for hit in items.search().scan()]
    for read in (loaded, fetched, hit, iterated, scanned):
        assert isinstance(read.vector, list) and all(type(x) is float for x in read.vector)
        assert np.array_equal(_as_float32(read.vector), F32)  # the same float32s came back


async def test_a_loaded_document_saved_back_keeps_its_vector(items: type[Item], odm_client: AsyncElasticsearch) -> None:
    await items(name="a", vector=F32, weights={"x": 1.5}, meta={"id": "a"}).save(refresh=True)
    name = items.index_name()
    stored = await _raw_source(odm_client, name, "a", vectors=True)

    loaded = await items.get("a")
    loaded.name = "renamed by get"
    await loaded.save(refresh=True)
    [hit] = [hit async for hit in items.search()]
    hit.name = "renamed by search"
    await hit.save(refresh=True)
    [fetched] = await items.mget(["a"])
    assert fetched is not None
    await fetched.save(refresh=True)

    after = await _raw_source(odm_client, name, "a", vectors=True)
    assert after == {**stored, "name": "renamed by search"}
    assert after["weights"] == {"x": 1.5}


async def test_a_vector_the_model_does_not_declare_survives_get_search_and_save(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    named = isolated(Named, index_prefix)
    name = named.index_name()
    await odm_client.indices.create(
        index=name,
        mappings={"properties": {"name": {"type": "keyword"}, "embedding": {"type": "dense_vector", "dims": 3}}},
    )
    await odm_client.index(index=name, id="x", document={"name": "x", "embedding": [1.0, 2.0, 3.0]}, refresh=True)
    assert "embedding" not in await _raw_source(odm_client, name, "x", vectors=False)

    loaded = await named.get("x")
    assert loaded.meta.unknown_fields is not None and "embedding" in loaded.meta.unknown_fields
    await loaded.save(refresh=True)
    [hit] = [hit async for hit in named.search()]
    await hit.save(refresh=True)
    [fetched] = await named.mget(["x"])
    assert fetched is not None
    await fetched.save(refresh=True)

    after = await _raw_source(odm_client, name, "x", vectors=True)
    assert _as_float32(after["embedding"]).tolist() == [1.0, 2.0, 3.0]


async def test_numpy_values_go_through_update_update_by_id_and_bulk(items: type[Item]) -> None:
    item = items(name="a", vector=[0.0, 0.0, 0.0], meta={"id": "a"})
    await item.save(refresh=True)
    await item.update(vector=F32 * 2, refresh=True)
    assert np.array_equal(_as_float32(item.vector), F32 * 2)
    assert np.array_equal(_as_float32((await items.get("a")).vector), F32 * 2)

    await items.update_by_id("a", vector=F32 * 3, refresh=True)
    assert np.array_equal(_as_float32((await items.get("a")).vector), F32 * 3)

    result = await items.bulk([items(name=f"b{n}", vector=F32 + n, meta={"id": f"b{n}"}) for n in range(3)], refresh=True)
    assert len(result.succeeded) == 3
    loaded = await items.get("b2")
    assert np.array_equal(_as_float32(loaded.vector), F32 + 2)


async def test_a_float64_array_is_stored_as_float32(items: type[Item]) -> None:
    exact: Any = np.array([0.1, 1 / 3, 2.0], dtype=np.float64)
    await items(name="a", vector=exact, meta={"id": "a"}).save(refresh=True)
    loaded = await items.get("a")
    assert np.array_equal(_as_float32(loaded.vector), exact.astype(np.float32))  # element_type float holds float32


async def test_knn_finds_vectors_given_as_arrays(items: type[Item]) -> None:
    for n in range(3):
        await items(name=f"i{n}", vector=np.full(3, n, dtype=np.float32),  # type: ignore[arg-type]
                    meta={"id": str(n)}).save()
    await items._index.refresh()
    nearest = await items.search().knn("vector", 1, 10, query_vector=[1.9, 1.9, 1.9]).execute()
    assert [hit.name for hit in nearest] == ["i2"]
    assert nearest[0].vector == [2.0, 2.0, 2.0]


async def test_packed_vectors_are_sent_as_base64_and_read_back_as_floats(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    packed = isolated(PackedItem, index_prefix)
    name = packed.index_name()
    # With vectors kept in _source, the stored _source shows what was sent.
    await odm_client.indices.create(
        index=name,
        settings={"index.mapping.exclude_source_vectors": False},
        mappings=packed.mapping_dict(),
    )
    item = packed(name="a", vector=F32, meta={"id": "a"})
    assert item.model_dump_json() == '{"name":"a","vector":[%s]}' % ",".join(repr(float(x)) for x in F32)
    await item.save(refresh=True)
    await packed.bulk([packed(name="b", vector=F32 * 2, meta={"id": "b"})], refresh=True)

    assert (await _raw_source(odm_client, name, "a", vectors=None))["vector"] == "PczMzT5MzM0+mZma"
    for doc_id, expected in (("a", F32), ("b", F32 * 2)):
        loaded = await packed.get(doc_id)  # the packed _source is read back as floats
        assert np.array_equal(_as_float32(loaded.vector), expected)
    nearest = await packed.search().knn("vector", 1, 10, query_vector=(F32 * 2).tolist()).execute()
    assert [hit.meta.id for hit in nearest] == ["b"]
    assert np.array_equal(_as_float32(nearest[0].vector), F32 * 2)


async def test_packed_vectors_are_indexed_the_same_where_source_excludes_vectors(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    packed = isolated(PackedItem, index_prefix)
    await packed.init()
    await packed(name="a", vector=F32, meta={"id": "a"}).save(refresh=True)
    raw = await _raw_source(odm_client, packed.index_name(), "a", vectors=True)
    assert np.array_equal(_as_float32(raw["vector"]), F32)  # Elasticsearch renders the indexed float32s
    assert np.array_equal(_as_float32((await packed.get("a")).vector), F32)


async def test_a_packed_value_from_the_client_helper_is_taken_as_floats(items: type[Item]) -> None:
    from elasticsearch.helpers import pack_dense_vector

    item = items(name="a", vector=pack_dense_vector(F32), meta={"id": "a"})  # type: ignore[arg-type]
    assert np.array_equal(_as_float32(item.vector), F32)
    await item.save(refresh=True)
    assert np.array_equal(_as_float32((await items.get("a")).vector), F32)


async def test_bad_vector_values_are_refused_and_nothing_is_written(items: type[Item]) -> None:
    with pytest.raises(ValidationError, match="vector.0"):
        items(name="a", vector=np.zeros((2, 3), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="packed dense_vector value must be base64"):
        items(name="a", vector="not base64!")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="whole number of float32s|packed dense_vector"):
        items(name="a", vector="AAAAAAA=")  # type: ignore[arg-type]  # 5 bytes
    item = items(name="a", vector=F32, meta={"id": "a"})
    with pytest.raises(DocumentValidationError):
        await item.update(vector=np.array([["x"]]))
    assert not await items.exists("a")


def test_packed_needs_float_elements() -> None:
    with pytest.raises(MappingError, match="element_type 'float'"):
        DenseVector(dims=3, element_type="byte", packed=True)


# -- a create answered 409 is read back with its vectors --------------------------------

@pytest.fixture
async def rich_items(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Rich]:
    bound = isolated(Rich, index_prefix)
    await bound.init()
    return bound


async def test_a_create_of_an_identical_document_with_vectors_on_a_first_attempt_is_a_conflict(
    rich_items: type[Rich], odm_client: AsyncElasticsearch
) -> None:
    """odm reads a 409 back only after its own re-send of a lost answer (test_faults:
    test_a_lost_create_of_a_document_with_vectors_is_not_a_false_conflict); a first attempt's
    conflict is a conflict, whatever the stored content."""
    assert await rich(rich_items).save(op_type="create", refresh=True) == "created"
    stored = await _raw_source(odm_client, rich_items.index_name(), "r1", vectors=True)
    assert stored["vector"] != PRECISE and "spare" not in stored  # what a read-back would compare with
    assert stored["weights"]["shoe"] != WEIGHTS["shoe"]

    with pytest.raises(DocumentExistsError):
        await rich(rich_items).save(op_type="create")
    result = await rich_items.bulk([CreateAction(rich(rich_items))])
    [failure] = result.failed
    assert isinstance(failure.error, BulkItemError) and failure.error.status == 409
    raw = await odm_client.get(index=rich_items.index_name(), id="r1")
    assert (raw["_version"], raw["_seq_no"]) == (1, 0)


@pytest.mark.parametrize(
    "changes",
    [
        {"vector": [0.123456789, 3.3, -7.7]},
        {"packed": [0.123456789, 3.3, -7.7]},
        {"weights": {"shoe": 0.5, "red": 7.5}},
        {"weights": {"shoe": 0.123456789}},
        {"parts": [Embedded(label="a", vector=[0.1, 0.2])]},
        {"parts": [Embedded(label="b", vector=[0.1, 0.123456789])]},
        {"spare": [1.0, 2.0, 3.0]},
        {"name": "other"},
    ],
    ids=["vector", "packed", "sparse-weight", "sparse-token", "nested-vector", "nested-field", "absent-vector", "field"],
)
async def test_a_create_of_a_different_document_with_vectors_is_a_conflict(
    rich_items: type[Rich], odm_client: AsyncElasticsearch, changes: dict[str, Any]
) -> None:
    await rich(rich_items).save(op_type="create", refresh=True)
    before = await _raw_source(odm_client, rich_items.index_name(), "r1", vectors=True)
    with pytest.raises(DocumentExistsError):
        await rich(rich_items, **changes).save(op_type="create")
    result = await rich_items.bulk([CreateAction(rich(rich_items, **changes))])
    [failure] = result.failed
    assert isinstance(failure.error, BulkItemError) and failure.error.status == 409
    assert await _raw_source(odm_client, rich_items.index_name(), "r1", vectors=True) == before  # nothing changed


async def test_a_stored_vector_the_model_does_not_declare_makes_a_create_a_conflict(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """The read-back asks for vectors whatever the class declares: another program's vector is seen."""
    named = isolated(Named, index_prefix)
    await odm_client.indices.create(
        index=named.index_name(),
        mappings={"properties": {"name": {"type": "keyword"}, "vec": {"type": "dense_vector", "dims": 3, "similarity": "l2_norm"}}},
    )
    await odm_client.index(index=named.index_name(), id="n1", document={"name": "a", "vec": [1.0, 2.0, 3.0]}, refresh=True)
    assert await _raw_source(odm_client, named.index_name(), "n1", vectors=None) == {"name": "a"}  # hidden by default
    with pytest.raises(DocumentExistsError):
        await named(name="a", meta={"id": "n1"}).save(op_type="create")
    [failure] = (await named.bulk([CreateAction(named(name="a", meta={"id": "n1"}))])).failed
    assert isinstance(failure.error, BulkItemError) and failure.error.status == 409


class _ByName(Aggs):
    best = TopHits(Item, size=1)


class _Names(Aggs):
    names = Terms(Item.name, aggs=_ByName)


async def test_top_hits_and_collapse_members_come_with_their_vectors_and_keep_them_when_saved(
    items: type[Item], odm_client: AsyncElasticsearch
) -> None:
    # A top hit and a collapse member are documents with meta: saved back, they must not
    # lose the vector Elasticsearch leaves out of _source unless asked.
    await items(name="a", vector=F32, weights={"x": 1.5}, meta={"id": "a"}).save(refresh=True)
    name = items.index_name()
    stored = await _raw_source(odm_client, name, "a", vectors=True)
    assert "vector" not in await _raw_source(odm_client, name, "a", vectors=False)

    response = await items.search().aggregate(_Names)[:0].execute()
    [bucket] = response.aggs(_Names).names.buckets
    [top] = bucket.aggs.best
    assert np.array_equal(_as_float32(top.vector), F32) and top.weights == {"x": 1.5}
    top.name = "renamed as a top hit"
    await top.save(refresh=True)
    assert await _raw_source(odm_client, name, "a", vectors=True) == {**stored, "name": "renamed as a top hit"}

    [leader] = await items.search().collapse("name", inner_hits={"name": "same"}).execute()
    assert leader.meta.inner_hits is not None
    [member] = leader.meta.inner_hits["same"].of(items)
    assert np.array_equal(_as_float32(member.doc.vector), F32) and member.doc.weights == {"x": 1.5}
    assert member.doc.meta.partial_source is False
    member.doc.name = "renamed as a collapse member"
    await member.doc.save(refresh=True)
    assert await _raw_source(odm_client, name, "a", vectors=True) == {**stored, "name": "renamed as a collapse member"}


class _NamedTop(Aggs):
    best = TopHits(Named, size=1)


async def test_a_vector_the_model_does_not_declare_survives_top_hits_and_collapse(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    named = isolated(Named, index_prefix)
    name = named.index_name()
    await odm_client.indices.create(
        index=name,
        mappings={"properties": {"name": {"type": "keyword"}, "embedding": {"type": "dense_vector", "dims": 3}}},
    )
    await odm_client.index(index=name, id="x", document={"name": "x", "embedding": [1.0, 2.0, 3.0]}, refresh=True)

    response = await named.search().aggregate(_NamedTop)[:0].execute()
    [top] = response.aggs(_NamedTop).best
    await top.save(refresh=True)
    [leader] = await named.search().collapse("name", inner_hits={"name": "same"}).execute()
    assert leader.meta.inner_hits is not None
    [member] = leader.meta.inner_hits["same"].of(named)
    await member.doc.save(refresh=True)

    after = await _raw_source(odm_client, name, "x", vectors=True)
    assert _as_float32(after["embedding"]).tolist() == [1.0, 2.0, 3.0]
