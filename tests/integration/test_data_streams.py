"""``class Index: data_stream = True`` on the real node.

odm's throwaway node lacks the data-streams module: it has no ``_data_stream`` API, so
``init()`` cannot create a stream and a stream created by a first write could never be
deleted (its template neither). The whole cycle therefore runs only on a full node given
through ``ODM_ES_URL``; the refusals, which send nothing, run everywhere. The requests
are pinned by tests/unit/test_data_streams.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import Field

from odm import AsyncDocument, DocumentStateError, Keyword
from odm.testing.isolation import isolated

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


class Log(AsyncDocument):
    timestamp: datetime = Field(alias="@timestamp")
    message: str
    level: Annotated[str, Keyword()] = "info"

    class Index:
        name = "logs-odm"
        data_stream = True


@pytest.mark.requires_module("data-streams")
async def test_a_data_stream_is_created_appended_to_and_searched(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    logs = isolated(Log, index_prefix)
    await logs.init()
    await logs.init()  # again: the template is brought up to date, the stream exists
    first = logs(timestamp=WHEN, message="started", meta={"id": "l1"})  # type: ignore[call-arg]  # populate_by_name
    assert await first.save(refresh=True) == "created"
    assert first.meta.index is not None and first.meta.index.startswith(f".ds-{logs.index_name()}-")
    result = await logs.bulk([logs(timestamp=WHEN, message=f"line {n}") for n in range(3)], refresh=True)  # type: ignore[call-arg]  # populate_by_name
    assert len(result.succeeded) == 3
    assert await logs.search().count() == 4
    [hit] = [hit async for hit in logs.search().filter("term", _id="l1")]
    assert hit.message == "started" and hit.timestamp == WHEN

    with pytest.raises(DocumentStateError, match="append-only"):
        await hit.update(message="changed")
    hit.message = "changed in its backing index"
    await hit.save(index=hit.meta.index, refresh=True)  # named: written there, with its tokens
    assert (await logs.get("l1", index=hit.meta.index)).message == "changed in its backing index"


async def test_writes_that_would_change_a_stored_document_are_refused_before_any_request(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    logs = isolated(Log, index_prefix)
    stored = logs(timestamp=WHEN, message="x", meta={"id": "l1", "index": f".ds-{logs.index_name()}-2026.11.30-000001"})  # type: ignore[call-arg]  # populate_by_name
    with pytest.raises(DocumentStateError, match="append-only: save"):
        await stored.save()
    with pytest.raises(DocumentStateError, match="append-only: update"):
        await stored.update(message="y")
    with pytest.raises(DocumentStateError, match="append-only: delete"):
        await stored.delete()
    with pytest.raises(DocumentStateError, match="append-only: update_by_id"):
        await logs.update_by_id("l1", message="y")
    with pytest.raises(DocumentStateError, match="append-only: delete_by_id"):
        await logs.delete_by_id("l1")
    resolved = await odm_client.indices.resolve_index(name=f"{index_prefix}*", expand_wildcards="all")
    assert resolved["indices"] == [] and resolved["data_streams"] == []  # nothing was written, nothing created
