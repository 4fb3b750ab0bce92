"""Parity with elasticsearch-dsl and esorm, and the conveniences of issue 20 (docs/porting.md).

Each block names the rule it checks; the request bodies the test node cannot run
(painless) are pinned in tests/unit/test_parity.py.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    ArgumentError,
    AsyncDocument,
    BulkItemError,
    DocumentStateError,
    Keyword,
    UpdateAction,
    VersionConflictError,
)
from odm.testing.isolation import isolated


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    value: int = 0

    class Index:
        name = "counters"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def counters(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Counter]:
    bound = isolated(Counter, index_prefix)
    await bound.init()
    await bound(name="c", value=1, meta={"id": "c"}).save(refresh=True)
    return bound


async def _stale(counters: type[Counter]) -> Counter:
    """A loaded copy of "c" whose tokens are out of date: another writer changed it since."""
    stale = await counters.get("c")
    fresh = await counters.get("c")
    await fresh.update(value=2)
    return stale


# -- 1. retry_on_conflict: elasticsearch-dsl's rule ----------------------------------------


async def test_update_retry_on_conflict_0_sends_tokens_and_fails_on_a_real_conflict(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    loaded = await counters.get("c")
    assert await loaded.update(value=5, retry_on_conflict=0) == "updated"  # tokens, 0 retries: no refusal
    stale = await _stale(counters)
    with pytest.raises(VersionConflictError):
        await stale.update(value=9, retry_on_conflict=0)
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 2


async def test_update_retry_on_conflict_above_0_sends_no_tokens_and_writes_over_a_change(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    stale = await _stale(counters)
    assert await stale.update(value=9, retry_on_conflict=3) == "updated"  # as a service written for 0.1 expects
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 9
    assert stale.value == 9 and stale.meta.seq_no is not None


async def test_update_retry_on_conflict_none_is_the_default_tokens(counters: type[Counter]) -> None:
    stale = await _stale(counters)
    with pytest.raises(VersionConflictError):
        await stale.update(value=9, retry_on_conflict=None)


async def test_bad_retry_on_conflict_is_refused_before_anything_is_sent(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    loaded = await counters.get("c")
    with pytest.raises(ArgumentError, match="retry_on_conflict"):
        await loaded.update(value=7, retry_on_conflict=-1)
    with pytest.raises(DocumentStateError, match="if_unchanged=True"):
        await loaded.update(value=7, retry_on_conflict=2, if_unchanged=True)
    raw = await odm_client.get(index=counters.index_name(), id="c")
    assert raw["_source"]["value"] == 1 and raw["_version"] == 1


async def test_bulk_update_action_follows_the_same_rule(
    odm_client: AsyncElasticsearch, counters: type[Counter]
) -> None:
    stale = await _stale(counters)
    refused = await counters.bulk([UpdateAction(stale, {"value": 8}, retry_on_conflict=0)])
    [failure] = refused.failed
    assert isinstance(failure.error, BulkItemError) and failure.error.status == 409
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 2
    retried = await counters.bulk([UpdateAction(stale, {"value": 8}, retry_on_conflict=3)])
    assert retried.ok and stale.value == 8
    assert (await odm_client.get(index=counters.index_name(), id="c"))["_source"]["value"] == 8
