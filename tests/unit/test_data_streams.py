"""``class Index: data_stream = True`` without a server: the definition, init()'s requests, the refusals.

odm's throwaway node lacks the data-streams module (no ``_data_stream`` API, and a data
stream it creates can never be deleted), so the requests are pinned here and the
integration test (tests/integration/test_data_streams.py) runs the whole cycle only on
a full node.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import orjson
import pytest
from pydantic import Field

from odm import ArgumentError, AsyncDocument, DocumentStateError, Keyword, MappingError
from tests.unit.fake_node import Request, fake_client

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


class Log(AsyncDocument):
    timestamp: datetime = Field(alias="@timestamp")
    message: str
    level: Annotated[str, Keyword()] = "info"

    class Index:
        name = "logs-app"
        data_stream = True
        keep_unknown_fields = False


def test_a_data_stream_needs_a_timestamp_date_field() -> None:
    with pytest.raises(MappingError, match="'@timestamp'"):

        class NoTime(AsyncDocument):
            message: str

            class Index:
                name = "logs-x"
                data_stream = True

    with pytest.raises(MappingError, match="'@timestamp'"):

        class TextTime(AsyncDocument):
            timestamp: str = Field(alias="@timestamp")

            class Index:
                name = "logs-x"
                data_stream = True


def test_a_data_stream_is_not_versioned() -> None:
    with pytest.raises(MappingError, match="cannot be versioned"):

        class Both(AsyncDocument):
            timestamp: datetime = Field(alias="@timestamp")

            class Index:
                name = "logs-x"
                data_stream = True
                versioned = True


def _answers() -> Any:
    async def answer(request: Request) -> tuple[int, Any]:
        if request.method == "HEAD":
            return 404, b""
        if request.path.startswith("/logs-app/_create/"):
            return 201, {"_index": ".ds-logs-app-2026.11.30-000001", "_id": "l1", "_version": 1, "result": "created",
                         "_seq_no": 0, "_primary_term": 1}
        if request.path == "/_bulk":
            item = {"_index": ".ds-logs-app-2026.11.30-000001", "_id": "l1", "_version": 2, "result": "deleted", "status": 200}
            return 200, {"errors": False, "items": [{"delete": item}]}
        return 200, {"acknowledged": True}

    return answer


async def test_init_saves_a_data_stream_template_and_creates_the_stream() -> None:
    client, requests = fake_client(_answers())
    await Log.init(using=client)
    assert [(r.method, r.path) for r in requests] == [
        ("PUT", "/_index_template/logs-app-template"),
        ("HEAD", "/logs-app"),
        ("PUT", "/_data_stream/logs-app"),
    ]
    template = orjson.loads(requests[0].body or b"")
    assert template["index_patterns"] == ["logs-app"] and template["data_stream"] == {}
    assert template["template"]["mappings"]["properties"]["@timestamp"] == {"type": "date"}
    await client.close()


async def test_a_new_document_is_created_in_the_stream_and_a_stored_one_is_not_changed() -> None:
    client, requests = fake_client(_answers())
    log = Log(timestamp=WHEN, message="started", meta={"id": "l1"})  # type: ignore[call-arg]  # populate_by_name
    assert await log.save(using=client) == "created"
    assert (requests[0].method, requests[0].target) == ("POST", "/logs-app/_create/l1")
    assert log.meta.index == ".ds-logs-app-2026.11.30-000001"
    await Log(timestamp=WHEN, message="no id").save(using=client)  # type: ignore[call-arg]  # populate_by_name
    new_id = requests[1].path.rsplit("/", 1)[1]  # odm's, given before the send
    assert (requests[1].method, requests[1].path) == ("POST", "/logs-app/_create/" + new_id) and len(new_id) == 20

    with pytest.raises(DocumentStateError, match="append-only: save\\(\\) of a stored document"):
        await log.save(using=client)
    with pytest.raises(DocumentStateError, match="append-only: update\\(\\)"):
        await log.update(message="changed", using=client)
    with pytest.raises(DocumentStateError, match="append-only: delete\\(\\)"):
        await log.delete(using=client)
    with pytest.raises(DocumentStateError, match="append-only: update_by_id\\(\\)"):
        await Log.update_by_id("l1", message="changed", using=client)
    with pytest.raises(DocumentStateError, match="append-only: delete_by_id\\(\\)"):
        await Log.delete_by_id("l1", using=client)
    with pytest.raises(ArgumentError, match="op_type='create' only"):
        await Log(timestamp=WHEN, message="x").save(op_type="index", using=client)  # type: ignore[call-arg]  # populate_by_name
    assert len(requests) == 2  # none of the refused writes was sent
    await client.close()


async def test_naming_the_backing_index_writes_there() -> None:
    client, requests = fake_client(_answers())
    log = Log(timestamp=WHEN, message="x", meta={"id": "l1", "index": ".ds-logs-app-2026.11.30-000001", "seq_no": 0,  # type: ignore[call-arg]  # populate_by_name
                                                  "primary_term": 1})
    await log.delete(index=".ds-logs-app-2026.11.30-000001", using=client)
    assert (requests[0].method, requests[0].target) == ("POST", "/_bulk")  # a delete has no POST form of its own
    assert requests[0].lines() == [
        {"delete": {"_index": ".ds-logs-app-2026.11.30-000001", "_id": "l1", "if_seq_no": 0, "if_primary_term": 1}}
    ]
    await client.close()


async def test_bulk_creates_bare_documents_of_a_data_stream() -> None:
    async def answer(request: Request) -> tuple[int, Any]:
        item = {"_index": ".ds-logs-app-1", "_id": "l1", "_version": 1, "result": "created", "_seq_no": 0,
                "_primary_term": 1, "status": 201}
        return 200, {"took": 1, "errors": False, "items": [{"create": item}]}

    client, requests = fake_client(answer)
    result = await Log.bulk([Log(timestamp=WHEN, message="x", meta={"id": "l1"})], using=client)  # type: ignore[call-arg]  # populate_by_name
    assert len(result.succeeded) == 1
    assert requests[0].lines()[0] == {"create": {"_index": "logs-app", "_id": "l1"}}
    await client.close()
