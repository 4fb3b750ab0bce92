"""Migrations and adopt after review: data the copy, the verification, a rollback or adopt could lose."""

from __future__ import annotations

import asyncio
import itertools
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, DenseVector, Keyword, SparseVector, Text, adopt, apply, rollback
from odm.testing.isolation import isolated

VECTOR = [0.5, -0.25, 0.125]  # float32s: stored and read back as they are
# Cosine: stored normalized, read back times its magnitude; this one comes back one float32 step
# off when what was read back is written and read again (as a migration's copy is).
UNIT = [7.55894985286286, 7.91129655327596, 0.48144411104471985]
WEIGHTS = {"shoe": 0.5, "red": 7.5}


class VecV1(AsyncDocument):
    name: Annotated[str, Keyword()]
    vector: Annotated[list[float] | None, DenseVector(dims=3, similarity="l2_norm")] = None
    weights: Annotated[dict[str, float], SparseVector()] = {}
    unit: Annotated[list[float] | None, DenseVector(dims=3)] = None  # cosine: stored normalized

    class Index:
        name = "mig-vectors"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class VecV2(VecV1):
    """``name`` becomes full text: a new index."""

    name: Annotated[str, Text()]


class Undeclared(AsyncDocument):
    """V2 without the vectors: another program's fields, kept as they are stored."""

    name: Annotated[str, Text()]

    class Index:
        name = "mig-vectors"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0, "mapping.exclude_source_vectors": True}


async def sources_with_vectors(client: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    await client.indices.refresh(index=index)
    answer = await client.search(index=index, size=100, source={"includes": ["*"], "exclude_vectors": False})
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


async def test_a_migration_copies_vectors_the_index_leaves_out_of_source(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    V1, V2 = isolated(VecV1, index_prefix), isolated(VecV2, index_prefix)
    state_index = index_prefix + "odm-migrations"
    await V1.init()
    alias = V1.index_name()
    documents = [V1(name=f"n{n}", vector=VECTOR, weights=WEIGHTS, unit=UNIT, meta={"id": f"v{n}"}) for n in range(5)]
    await V1.bulk(documents, refresh=True)
    plain = await odm_client.get(index=alias, id="v0")
    assert "vector" not in plain["_source"]  # the index leaves vectors out of a plain read

    await apply(V2, state_index=state_index)  # its verification compares the cosine vector as stored
    copied = await sources_with_vectors(odm_client, f"{alias}-v2")
    assert {id: source.pop("unit") == pytest.approx(UNIT, rel=1e-6) for id, source in copied.items()} == {
        f"v{n}": True for n in range(5)
    }
    assert copied == {f"v{n}": {"name": f"n{n}", "vector": VECTOR, "weights": WEIGHTS} for n in range(5)}

    await V2(name="after", vector=VECTOR, weights=WEIGHTS, meta={"id": "late"}).save(refresh=True)
    await rollback(V2, state_index=state_index)  # raw copy back, no previous model
    back = await sources_with_vectors(odm_client, f"{alias}-v1")
    assert back["late"] == {"name": "after", "vector": VECTOR, "weights": WEIGHTS}


async def test_a_migration_through_a_class_without_the_vectors_keeps_them(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    V1, Other = isolated(VecV1, index_prefix), isolated(Undeclared, index_prefix)
    state_index = index_prefix + "odm-migrations"
    await V1.init()
    alias = V1.index_name()
    await V1.bulk([V1(name=f"n{n}", vector=VECTOR, weights=WEIGHTS, meta={"id": f"v{n}"}) for n in range(5)], refresh=True)

    await apply(Other, state_index=state_index)
    copied = await sources_with_vectors(odm_client, f"{alias}-v2")
    assert copied == {f"v{n}": {"name": f"n{n}", "vector": VECTOR, "weights": WEIGHTS} for n in range(5)}


class Adopted(AsyncDocument):
    name: Annotated[str, Keyword()]

    class Index:
        name = "adopt-busy"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def test_adopt_under_writes_waits_for_those_in_flight_and_loses_none(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """Each write adds a field, so it waits for a mapping update on the primary: a block set as a
    plain setting does not wait for it, and it lands after the block (a copy made then misses it)."""
    cls = isolated(Adopted, index_prefix)
    name = cls.index_name()
    await odm_client.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0})
    acknowledged: list[str] = []
    numbers = itertools.count()
    adopting = True

    async def writer() -> None:
        while adopting:
            n = next(numbers)
            try:
                await odm_client.index(index=name, id=f"d{n}", document={"name": "x", f"field{n}": n})
            except Exception:  # blocked while adopt runs: not acknowledged, so not owed
                await asyncio.sleep(0.001)
            else:
                acknowledged.append(f"d{n}")

    writers = [asyncio.create_task(writer()) for _ in range(8)]
    try:
        await asyncio.sleep(0.05)
        assert await adopt(cls) == name + "-v1"
    finally:
        adopting = False
        await asyncio.gather(*writers)
    await odm_client.indices.refresh(index=name)
    stored = {hit["_id"] for hit in (await odm_client.search(index=name, size=10_000, source=False))["hits"]["hits"]}
    assert [id for id in acknowledged if id not in stored] == []
    assert len(acknowledged) > 8
