"""A search response validated straight from its bytes reads exactly as from dicts.

``execute()`` takes this path for one model and whole sources, through the client's
JSON serializer (odm/_core/raw_json.py); the server is a scripted node behind a real client.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import orjson
import pytest
from elasticsearch import NotFoundError

from odm import AsyncDocument, AsyncSearch, HitValidationError
from odm._core.hits import gc_paused, reader_for
from odm._core.raw_json import RawJson, _PassThroughJson, accepts_raw_json, raw_json_responses
from tests.models.blog import Post
from tests.unit.fake_node import Request, fake_client

SOURCE = {"title": "Hello", "created_at": "2026-11-24T12:00:00", "views": 3, "tags": ["a"]}


def hit(id: str = "p1", source: Any = SOURCE, **extra: Any) -> dict[str, Any]:
    return {"_index": "posts-2026-11", "_id": id, "_score": 1.5, "_source": source, **extra}


def response(*hits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    total = {"value": len(hits), "relation": "eq"}
    return {"took": 2, "timed_out": False, "hits": {"total": total, "max_score": 1.5, "hits": list(hits)}, **extra}


RICH = [
    hit("a", _seq_no=0, _primary_term=1, _routing="ann", highlight={"title": ["<em>Hello</em>"]}, sort=[3, "x"]),
    hit("b", _version=4, matched_queries=["q1"], inner_hits={"comments": {"hits": {"hits": []}}}, fields={"f": [1]}),
    hit("c", _score=None),
]


def test_models_and_meta_are_the_same_as_from_dicts() -> None:
    reader = reader_for(Post)
    _, from_bytes = reader.read_response(orjson.dumps(response(*RICH)))
    from_dicts = reader.read_many(RICH)
    assert from_bytes == from_dicts
    for one, other in zip(from_bytes, from_dicts):
        assert one.meta == other.meta
    assert from_bytes[0].meta.seq_no == 0 and from_bytes[0].meta.sort == [3, "x"]


def test_the_body_keeps_every_key_and_each_source_is_its_model() -> None:
    body, posts = reader_for(Post).read_response(orjson.dumps(response(*RICH, aggregations={"n": {"value": 1}})))
    assert body["took"] == 2 and body["aggregations"] == {"n": {"value": 1}}
    assert body["hits"]["total"] == {"value": 3, "relation": "eq"} and body["hits"]["max_score"] == 1.5
    first, second = body["hits"]["hits"][:2]
    assert first["_source"] is posts[0] and first["sort"] == [3, "x"] and first["_id"] == "a"
    assert second["fields"] == {"f": [1]}


def test_an_invalid_hit_is_named_as_from_dicts() -> None:
    bad = hit("p2", source={**SOURCE, "views": "lots"})
    with pytest.raises(HitValidationError) as caught:
        reader_for(Post).read_response(orjson.dumps(response(hit("p1"), bad)))
    assert (caught.value.index, caught.value.id) == ("posts-2026-11", "p2") and "views" in str(caught.value)


def test_a_hit_without_source_is_read_from_its_meta() -> None:
    class Tag(AsyncDocument):
        name: str = "unnamed"

    [tag] = reader_for(Tag).read_response(orjson.dumps(response({"_index": "tags", "_id": "t1", "_score": 1.0})))[1]
    # Nothing was read: a partial model (save() refuses it), not a document of defaults
    assert tag.name == "unnamed" and tag.meta.id == "t1" and tag.meta.partial_source and tag.model_fields_set == set()
    [post] = reader_for(Post).read_response(orjson.dumps(response({"_index": "posts", "_id": "p1", "_score": 1.0})))[1]
    assert post.meta.partial_source and post.meta.id == "p1"
    with pytest.raises(AttributeError):
        post.title  # noqa: B018  # not fetched, no default: unset, never invented


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_and_left_as_it_was(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


# -- raw bytes from the client ----------------------------------------------------------


def test_the_serializer_hands_bytes_only_to_the_task_that_asked() -> None:
    serializer = _PassThroughJson(type("Json", (), {"loads": lambda self, data: orjson.loads(data)})())
    data, error = b'{"took":1}', b'{"error":{"type":"x"},"status":404}'

    async def main() -> None:
        assert serializer.loads(data) == {"took": 1}
        with raw_json_responses():
            assert isinstance(serializer.loads(data), RawJson)
            assert serializer.loads(error) == {"error": {"type": "x"}, "status": 404}
            in_a_thread = asyncio.get_running_loop().run_in_executor(None, serializer.loads, data)
            assert await in_a_thread == {"took": 1}  # no task there: decoded
            spawned = asyncio.create_task(_loads_later(serializer, data))
        assert await spawned == {"took": 1}  # another task (as sniffing is): decoded
        assert serializer.loads(data) == {"took": 1}

    asyncio.run(main())


async def _loads_later(serializer: _PassThroughJson, data: bytes) -> Any:
    return serializer.loads(data)


def test_a_client_is_wrapped_once_and_other_objects_are_left_alone() -> None:
    client, _ = fake_client(_answer_search)
    assert accepts_raw_json(client) and accepts_raw_json(client)
    wrapped = client.transport.serializers.serializers
    assert isinstance(wrapped["application/vnd.elasticsearch+json"], _PassThroughJson)
    assert not isinstance(wrapped["application/vnd.elasticsearch+json"].decoder, _PassThroughJson)
    assert not isinstance(wrapped["application/x-ndjson"], _PassThroughJson)
    assert not accepts_raw_json(object())
    asyncio.run(client.close())


async def _answer_search(request: Request) -> tuple[int, Any]:
    if "missing" in request.target:
        return 404, {"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404}
    return 200, response(*RICH, aggregations={"n": {"value": 1}})


async def test_execute_validates_from_bytes_and_keeps_the_response() -> None:
    client, requests = fake_client(_answer_search)
    search = AsyncSearch(using=client, index="posts", doc_type=Post)
    result = await search.execute()
    assert [p.meta.id for p in result] == ["a", "b", "c"] and type(result[0]) is Post
    assert result.hits.total.value == 3 and result.took == 2 and result.body["aggregations"] == {"n": {"value": 1}}
    assert result.body["hits"]["hits"][0]["_source"] is result[0]
    assert (await client.search(index="posts"))["hits"]["hits"][0]["_source"] == SOURCE  # others decode as ever
    await client.close()


async def test_errors_keep_their_decoded_body_and_other_searches_read_dicts() -> None:
    client, _ = fake_client(_answer_search)
    with pytest.raises(NotFoundError) as caught:
        await AsyncSearch(using=client, index="missing", doc_type=Post).execute()
    assert caught.value.body["error"]["type"] == "index_not_found_exception"
    partial = await AsyncSearch(using=client, index="posts", doc_type=Post).source(["title"]).execute()
    assert partial.body["hits"]["hits"][0]["_source"] == SOURCE and partial[0].title == "Hello"
    untyped = await AsyncSearch(using=client, index="posts").execute()
    assert untyped[0].title == "Hello"
    await client.close()
