"""Review of the write path (odm's own retries, ids, timestamps): what reaches the node and what odm reports.

Each test reads the node directly (``odm_client``), never through the fault proxy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, BulkItemError, OutcomeUnknownError, RetryPolicy
from odm.testing import FaultProxy
from odm.testing.faults import Reject429, RejectBulkItems, ResetAfterForwarding
from odm.testing.isolation import isolated
from tests.integration.test_faults import BULK, posts, proxy, through  # noqa: F401  (posts, proxy: fixtures)
from tests.models.blog import Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)
ONE_RESEND: dict[str, Any] = {"max_retries": 1, "initial_backoff": 0.01, "max_backoff": 0.05}


class Note(AsyncDocument):
    uid: str | None = None
    title: str
    views: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    class Index:
        name = "review-notes"
        id_field = "uid"
        timestamps = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def notes(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Note]:
    bound = isolated(Note, index_prefix)
    await bound.init()
    return bound


async def test_bulk_item_applied_then_rejected_is_not_reported_refused(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """A bulk whose first request was applied but got no answer, and whose re-send's item was answered
    429 on the last attempt, holds the document: it must not be reported a refused BulkItemError(429)."""
    doc = posts(title="applied once", created_at=WHEN, meta={"id": "a1"})
    proxy.faults = [ResetAfterForwarding(count=1, path=BULK), RejectBulkItems(item_probability=1.0, path=BULK)]
    async with through(proxy) as client:
        result = await posts.bulk([doc], using=client, **ONE_RESEND)
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.injected["bulk_item_429"] == 1
    raw = await odm_client.options(ignore_status=404).get(index=posts.index_name(), id="a1")
    assert raw["found"] is True  # the first attempt was applied
    [failure] = result.failed
    assert not isinstance(failure.error, BulkItemError), f"a stored document reported refused: {failure.error!r}"


async def test_save_applied_then_rejected_does_not_raise_a_plain_429(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """save() whose first send was applied (answer lost) and whose re-send got 429: the outcome is
    not a refusal (the document is stored)."""
    doc = posts(title="applied once", created_at=WHEN, meta={"id": "s1"})
    proxy.faults = [ResetAfterForwarding(count=1), Reject429()]
    async with through(proxy) as client:
        with pytest.raises(Exception) as caught:
            await doc.save(using=client, retry=RetryPolicy(max_retries=1, initial_backoff=0.01))
    raw = await odm_client.options(ignore_status=404).get(index=posts.index_name(), id="s1")
    assert raw["found"] is True
    assert isinstance(caught.value, OutcomeUnknownError), repr(caught.value)


async def test_id_less_save_op_type_index_resent(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, notes: type[Note]
) -> None:
    """An id-less document saved with op_type="index" gets odm's new id: a re-send after a lost answer
    overwrites its own first attempt, and odm returns "updated" (version 2) for a document it created."""
    doc = notes(title="x")
    proxy.faults = [ResetAfterForwarding(count=1)]
    async with through(proxy) as client:
        result = await doc.save(using=client, op_type="index", retry=RetryPolicy(initial_backoff=0.01))
    await odm_client.indices.refresh(index=notes.index_name())
    assert (await odm_client.count(index=notes.index_name()))["count"] == 1
    assert doc.uid == doc.meta.id
    assert result == "created", (result, doc.meta.version)

