"""Scripted updates without a server: the exact request, and the instance read back from the answer.

The test node lacks lang-painless, so the request bodies are pinned here and the
integration test (tests/integration/test_scripted_update.py) runs only on a full node.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import pytest
from elasticsearch.dsl.types import Script

from odm import AsyncDocument, ArgumentError, DocumentValidationError, HitValidationError, Keyword
from tests.unit.fake_node import Request, fake_client


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "counters"
        keep_unknown_fields = False  # the requests then carry no vector parameters


def _answer(source: dict[str, Any] | None, result: str = "updated") -> Any:
    async def answer(request: Request) -> tuple[int, Any]:
        body: dict[str, Any] = {"_index": "counters", "_id": "c", "_version": 2, "result": result, "_seq_no": 7, "_primary_term": 1}
        if source is not None:
            body["get"] = {"found": True, "_seq_no": 7, "_primary_term": 1, "_source": source}
        return 200, body

    return answer


def _loaded() -> Counter:
    return Counter(name="c", views=1, meta={"id": "c", "index": "counters", "seq_no": 3, "primary_term": 1})


async def test_a_script_with_params_is_sent_with_the_tokens_and_the_stored_source_is_read_back() -> None:
    client, requests = fake_client(_answer({"name": "c", "views": 3}))
    counter = _loaded()
    result = await counter.update(script="ctx._source.views += params.n", params={"n": 2}, using=client)
    [request] = requests
    assert (request.method, request.target) == ("POST", "/counters/_update/c?if_primary_term=1&if_seq_no=3")
    assert orjson.loads(request.body or b"") == {
        "script": {"source": "ctx._source.views += params.n", "params": {"n": 2}},
        "_source": True,
    }
    assert result == "updated"
    assert counter.views == 3  # what the index holds now
    assert (counter.meta.seq_no, counter.meta.version) == (7, 2)
    await client.close()


async def test_without_tokens_an_update_is_retried_on_conflicts() -> None:
    client, requests = fake_client(_answer({"name": "c", "views": 1}))
    await Counter(name="c", meta={"id": "c"}).update(script="ctx._source.views++", using=client)
    assert requests[0].target == "/counters/_update/c?retry_on_conflict=10"
    await client.close()


@pytest.mark.parametrize(
    ("script", "sent"),
    [
        ({"source": "ctx._source.views = 0", "lang": "painless"}, {"source": "ctx._source.views = 0", "lang": "painless"}),
        ({"id": "reset-views"}, {"id": "reset-views"}),
        (Script(id="reset-views", params={"to": 0}), {"id": "reset-views", "params": {"to": 0}}),
    ],
)
async def test_script_dicts_stored_scripts_and_dsl_script_objects(script: Any, sent: dict[str, Any]) -> None:
    client, requests = fake_client(_answer({"name": "c", "views": 0}))
    await Counter.update_by_id("c", script=script, using=client)
    assert orjson.loads(requests[0].body or b"") == {"script": sent}
    await client.close()


async def test_upsert_sends_the_document_encoded_as_save_does() -> None:
    client, requests = fake_client(_answer({"name": "new", "views": 5}, result="created"))
    counter = Counter(name="new", views=5, meta={"id": "c"})
    assert await counter.update(script="ctx._source.views++", upsert=True, using=client) == "created"
    assert orjson.loads(requests[0].body or b"")["upsert"] == {"name": "new", "views": 5}

    await Counter.update_by_id("c", script="ctx._source.views++", upsert=Counter(name="n", views=1), using=client)
    assert orjson.loads(requests[1].body or b"") == {"script": {"source": "ctx._source.views++"}, "upsert": {"name": "n", "views": 1}}
    await client.close()


async def test_a_script_that_deletes_forgets_the_tokens() -> None:
    client, _ = fake_client(_answer(None, result="deleted"))
    counter = _loaded()
    assert await counter.update(script="ctx.op = 'delete'", using=client) == "deleted"
    assert counter.meta.seq_no is None and counter.meta.primary_term is None
    await client.close()


async def test_a_stored_document_the_model_rejects_is_reported_with_its_id() -> None:
    client, _ = fake_client(_answer({"name": "c", "views": "many"}))
    with pytest.raises(HitValidationError, match="'c'.*views"):
        await _loaded().update(script="ctx._source.views = 'many'", using=client)
    await client.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"script": "x", "params": {"views": 1}, "views": 2}, r"params \['views'\] given twice"),
        ({"script": {"source": "x", "params": {"views": 1}}, "views": 2}, r"params \['views'\] given twice"),
        ({"params": {"n": 1}, "views": 2}, "params= and upsert= go with script="),
        ({"script": {"lang": "painless"}}, "'source' or a stored script's 'id'"),
        ({"script": {"source": "x", "params": {"a": 1}}, "params": {"b": 2}}, "params= given twice"),
        ({"script": 42}, "painless source"),
    ],
)
async def test_bad_combinations_are_refused_before_any_request(arguments: dict[str, Any], message: str) -> None:
    client, requests = fake_client(_answer(None))
    with pytest.raises(ArgumentError, match=message):
        await _loaded().update(using=client, **arguments)
    with pytest.raises(ArgumentError, match=message):
        await Counter.update_by_id("c", using=client, **arguments)
    with pytest.raises(ArgumentError, match="upsert=True goes with script="):
        await _loaded().update(upsert=True, views=2, using=client)
    assert requests == []
    await client.close()


async def test_an_invalid_upsert_document_is_refused_before_any_request() -> None:
    client, requests = fake_client(_answer(None))
    counter = Counter(name="c", meta={"id": "c"})
    counter.views = 1
    object.__setattr__(counter, "__dict__", {**counter.__dict__, "views": "many"})  # changed in place, unchecked
    with pytest.raises(DocumentValidationError):
        await counter.update(script="ctx._source.views++", upsert=True, using=client)
    assert requests == []
    await client.close()
