"""Vectors without a server: numpy and packed input, packed output, and the reads that ask for vectors."""

from __future__ import annotations

from typing import Annotated, Any

import elastic_transport
import numpy as np
import orjson
import pytest
from pydantic import BaseModel

from odm import AsyncDocument, AsyncSearch, CreateAction, DenseVector, Keyword, RetryPolicy, SparseVector
from odm._core.hits import InnerHitRules, inner_hit_rules
from odm._core.vectors import _same, reads_vectors, with_vectors
from odm._core.writes import revalidates, same_source
from tests.unit.fake_node import Request, fake_client

# Any: mypy sees the fields as list[float]; numpy arrays are taken at run time (docs/documents.md)
F32: Any = np.array([0.1, 0.2, 0.3], dtype=np.float32)


class Item(AsyncDocument):
    name: Annotated[str, Keyword()]
    vector: Annotated[list[float] | None, DenseVector(dims=3)] = None
    packed: Annotated[list[float] | None, DenseVector(dims=3, packed=True)] = None
    codes: Annotated[list[int] | None, DenseVector(dims=3, element_type="byte")] = None

    class Index:
        name = "items"


class Plain(AsyncDocument):
    name: str

    class Index:
        name = "plain"
        keep_unknown_fields = False


class Chunk(BaseModel):
    weights: Annotated[dict[str, float], SparseVector()]


class WithChunks(AsyncDocument):
    chunks: list[Chunk] = []

    class Index:
        name = "chunks"
        keep_unknown_fields = False


def test_a_float32_array_becomes_the_floats_of_exactly_its_values() -> None:
    item = Item(name="a", vector=F32)
    assert item.vector == [0.10000000149011612, 0.20000000298023224, 0.30000001192092896]
    assert np.array_equal(np.asarray(item.vector, dtype=np.float32), F32)
    item.vector = F32 * 2  # assignment too
    assert np.array_equal(np.asarray(item.vector, dtype=np.float32), F32 * 2)


def test_an_int8_array_for_a_byte_vector_becomes_ints_and_strings_are_not_unpacked() -> None:
    codes: Any = np.array([1, -2, 3], dtype=np.int8)
    item = Item(name="a", codes=codes)
    assert item.codes == [1, -2, 3] and all(type(x) is int for x in item.codes)
    with pytest.raises(ValueError, match="codes"):
        Item(name="a", codes="PczMzT5MzM0+mZma")  # type: ignore[arg-type]  # a byte vector's string is hex, not ours


def test_packed_values_are_read_as_floats() -> None:
    assert Item(name="a", vector="PczMzT5MzM0+mZma").vector == F32.tolist()  # type: ignore[arg-type]


def test_packed_fields_are_packed_only_in_odms_writes() -> None:
    item = Item(name="a", vector=F32, packed=F32)
    assert orjson.loads(item.to_source())["packed"] == "PczMzT5MzM0+mZma"  # what save() and bulk send
    assert orjson.loads(item.to_source())["vector"] == F32.tolist()
    assert orjson.loads(item.model_dump_json())["packed"] == F32.tolist()  # an API response keeps the list
    assert item.model_dump()["packed"] == F32.tolist()
    assert Item.model_json_schema(mode="serialization")["properties"]["packed"]["anyOf"][0]["type"] == "array"


def test_vector_fields_do_not_make_writes_validate_again() -> None:
    assert not revalidates(Item)


def test_packed_and_unpacked_fields_are_distinct_annotations() -> None:
    # typing caches Annotated[...] by the metadata's hash and equality
    assert Annotated[list[float], DenseVector(dims=3)] != Annotated[list[float], DenseVector(dims=3, packed=True)]
    assert DenseVector(dims=3, packed=True) == DenseVector(dims=3, packed=True)
    assert DenseVector(dims=3, packed=True).to_dict() == {"type": "dense_vector", "dims": 3}


def test_which_classes_ask_for_vectors() -> None:
    assert reads_vectors(Item)  # it has vector fields
    assert not reads_vectors(Plain)  # no vector, and no unknown fields kept
    assert reads_vectors(WithChunks)  # a sparse vector inside a nested model
    assert reads_vectors(Chunk)  # a plain model used as a search's doc_type

    class Keeper(AsyncDocument):  # keeps unknown stored fields: they may be vectors
        name: str

    assert reads_vectors(Keeper)


@pytest.mark.parametrize(
    ("source", "asked"),
    [
        (None, {"exclude_vectors": False}),
        (True, {"exclude_vectors": False}),
        (["name"], {"includes": ["name"], "exclude_vectors": False}),
        ({"excludes": ["name"]}, {"excludes": ["name"], "exclude_vectors": False}),
        ({"exclude_vectors": True}, {"exclude_vectors": True}),  # the user's own choice
        (False, False),
    ],
)
def test_a_search_source_asks_for_vectors(source: Any, asked: Any) -> None:
    assert with_vectors(source) == asked


def test_typed_searches_ask_for_vectors_and_plain_ones_do_not() -> None:
    assert Item.search()._body()["_source"] == {"exclude_vectors": False}
    assert Item.search().source(["name"])._body()["_source"] == {"includes": ["name"], "exclude_vectors": False}
    assert "_source" not in Plain.search()._body()
    assert "_source" not in AsyncSearch(index="items")._body()  # untyped: attribute dicts, never saved


def test_a_collapse_s_inner_hits_ask_for_vectors_without_becoming_partial() -> None:
    # Elasticsearch ignores {"exclude_vectors": false} alone on inner hits: includes ["*"] too.
    whole = {"includes": ["*"], "exclude_vectors": False}
    body = Item.search().collapse("name", inner_hits={"name": "same", "size": 2})._body()
    tokens = {"seq_no_primary_term": True}  # members are documents: a saved one is guarded (test_read_sources.py)
    assert body["collapse"] == {"field": "name", "inner_hits": {**tokens, "name": "same", "size": 2, "_source": whole}}
    assert inner_hit_rules(body) == InnerHitRules(frozenset({"same"}), partial=False)

    several: Any = [{"name": "a"}, {"name": "b", "_source": ["name"]}, {"name": "c", "_source": False}]  # dsl types one dict
    body = Item.search().collapse("name", inner_hits=several)._body()
    assert body["collapse"]["inner_hits"] == [
        {**tokens, "name": "a", "_source": whole},
        {**tokens, "name": "b", "_source": {"includes": ["name"], "exclude_vectors": False}},
        {**tokens, "name": "c", "_source": False},  # the user's own choice
    ]
    assert inner_hit_rules(body).partial  # b and c filter the source: partial models, save() refuses them
    assert several[0] == {"name": "a"}  # the search's own definitions are left as they were
    assert Plain.search().collapse("name", inner_hits={"name": "same"})._body()["collapse"]["inner_hits"] == {**tokens, "name": "same"}


def test_elasticsearch_dsls_own_source_call_is_not_a_partial_source() -> None:
    assert not Item.search().source(exclude_vectors=False)._is_partial()
    assert Item.search().source(exclude_vectors=True)._is_partial()  # vectors missing: saving would drop them


async def _answer(request: Request) -> tuple[int, Any]:
    hit = {"_index": "items", "_id": "a", "_seq_no": 0, "_primary_term": 1, "found": True, "_source": {"name": "a"}}
    return 200, {"docs": [hit]} if request.path.endswith("_mget") else hit


async def test_get_and_mget_ask_for_vectors() -> None:
    client, requests = fake_client(_answer)
    await Item.get("a", using=client)
    await Item.mget(["a"], using=client)
    await Plain.get("a", using=client)
    await Plain.mget(["a"], using=client)
    assert [(r.method, r.target) for r in requests] == [
        ("GET", "/items/_doc/a?_source_exclude_vectors=false"),
        ("POST", "/items/_mget?_source_exclude_vectors=false"),
        ("GET", "/plain/_doc/a"),
        ("POST", "/plain/_mget"),
    ]
    assert orjson.loads(requests[1].body or b"") == orjson.loads(requests[3].body or b"") == {"ids": ["a"]}
    await client.close()


# -- a create answered 409: the read-back asks for vectors, and compares them as stored ---


class Stored(AsyncDocument):
    name: str = ""
    cosine: Annotated[list[float] | None, DenseVector(dims=2)] = None  # the default similarity
    l2: Annotated[list[float] | None, DenseVector(dims=2, similarity="l2_norm")] = None
    codes: Annotated[list[int] | None, DenseVector(dims=2, element_type="byte")] = None
    weights: Annotated[dict[str, float], SparseVector()] = {}
    chunks: list[Chunk] = []

    class Index:
        name = "stored"


def f32(value: float) -> float:
    return float(np.float32(value))


def next_f32(value: float, steps: int = 1) -> float:
    return float(np.array([value], dtype=np.float32).view(np.int32)[0:1].__add__(steps).view(np.float32)[0])


@pytest.mark.parametrize(
    ("sent", "stored", "same"),
    [
        ({"l2": [0.123456789, 2.0]}, {"l2": [f32(0.123456789), 2.0]}, True),  # Elasticsearch's float32 digits
        ({"l2": "PfzW6kAAAAA="}, {"l2": [f32(0.123456789), 2.0]}, True),  # packed, given back as floats
        ({"l2": [0.123456789, 2.0]}, {"l2": [next_f32(0.123456789), 2.0]}, False),  # one float32 step: another value
        ({"cosine": [0.123456789, 2.0]}, {"cosine": [next_f32(0.123456789), 2.0]}, True),  # normalized: rounding
        ({"cosine": [0.123456789, 2.0]}, {"cosine": [next_f32(0.123456789, 3), 2.0]}, False),
        ({"cosine": [0.5, 2.0]}, {"cosine": [-0.5, 2.0]}, False),
        ({"cosine": [0.5, 2.0]}, {"cosine": [0.5]}, False),
        ({"codes": [1, 2]}, {"codes": [1, 2]}, True),
        ({"codes": [1, 2]}, {"codes": [1, 3]}, False),
        ({"codes": [1.0, 2.0]}, {"codes": [1, 2]}, True),  # a byte vector's values are numbers
        ({"name": "a", "other": True}, {"name": "a", "other": 1}, False),  # equal in Python, not as JSON
        ({"name": "a", "other": [1.0]}, {"name": "a", "other": [1]}, False),
        ({"weights": {"a": 0.123456789}}, {"weights": {"a": 0.123291016}}, True),  # the bits Lucene keeps
        ({"weights": {"a": 0.123456789}}, {"weights": {"a": 0.124}}, False),  # the next kept value up: 0.1235
        ({"weights": {"a": 0.5}}, {"weights": {"b": 0.5}}, False),
        ({"chunks": [{"weights": {"a": 0.1}}]}, {"chunks": [{"weights": {"a": 0.099853515625}}]}, True),  # nested
        ({"chunks": [{"weights": {"a": 0.1}}]}, {"chunks": [{"weights": {"a": 0.1}}, {"weights": {}}]}, False),
        ({"cosine": None, "name": "a"}, {"name": "a"}, True),  # a null vector is not given back
        ({"name": None}, {}, False),  # any other null is
        ({"name": "a"}, {"name": "b"}, False),
        ({"name": "a"}, {"name": "a", "l2": [1.0, 2.0]}, False),  # a vector stored by someone else
        ({"name": "a", "other": 0.1}, {"name": "a", "other": f32(0.1)}, False),  # not a vector: exact
    ],
)
def test_a_read_back_source_holds_what_was_sent(sent: dict[str, Any], stored: dict[str, Any], same: bool) -> None:
    assert same_source(orjson.dumps(sent), stored, Stored) is same
    if sent != stored:
        assert same_source(orjson.dumps(sent), stored) is False  # without a model: exactly the JSON


def test_rank_vectors_compare_as_float32s() -> None:
    """odm has no field class for rank_vectors (and the test node lacks it), a mapping might."""
    mapping = {"properties": {"tokens": {"type": "rank_vectors", "dims": 2}}}
    stored = {"tokens": [[f32(0.1), f32(0.2)], [f32(0.3), f32(0.4)]]}
    assert _same({"tokens": [[0.1, 0.2], [0.3, 0.4]]}, stored, mapping)
    assert not _same({"tokens": [[0.1, 0.2], [0.3, next_f32(0.4)]]}, stored, mapping)
    assert not _same({"tokens": [[0.1, 0.2]]}, stored, mapping)


async def test_the_read_back_of_a_create_asks_for_vectors() -> None:
    lost: set[str] = set()  # each write's first attempt loses its answer: the re-send is read back

    async def conflict(request: Request) -> tuple[int, Any]:
        refused = {"status": 409, "error": {"type": "version_conflict_engine_exception", "reason": "exists"}}
        stored = {"_index": "plain", "_id": "a", "_version": 1, "_seq_no": 0, "_primary_term": 1, "found": True, "_source": {"name": "a"}}
        if request.method == "POST" and request.path not in lost and request.path != "/_mget":
            lost.add(request.path)
            raise elastic_transport.ConnectionError("reset after the node applied it")
        if request.path == "/_bulk":
            return 200, {"errors": True, "items": [{"create": {"_index": "plain", "_id": "a", **refused}}]}
        if request.path == "/_mget":
            return 200, {"docs": [stored]}
        return (409, refused) if request.method == "POST" else (200, stored)

    client, requests = fake_client(conflict)
    fast = RetryPolicy(initial_backoff=0)
    assert await Plain(name="a", meta={"id": "a"}).save(using=client, op_type="create", retry=fast) == "created"
    result = await Plain.bulk([CreateAction(Plain(name="a", meta={"id": "a"}))], using=client, retry=fast)
    assert result.succeeded[0].confirmed
    # Plain declares no vector and keeps no unknown field, yet the stored document may be another program's
    assert [(r.method, r.target) for r in requests] == [
        ("POST", "/plain/_create/a"),
        ("POST", "/plain/_create/a"),
        ("GET", "/plain/_doc/a?_source_exclude_vectors=false"),
        ("POST", "/_bulk"),
        ("POST", "/_bulk"),
        ("POST", "/_mget?_source_exclude_vectors=false"),
    ]
    await client.close()
