"""Scripted updates on the real node.

Scripts need the ``lang-painless`` module, which odm's throwaway test node lacks: those
tests run against a full node given through ``ODM_ES_URL`` and are skipped otherwise
(the exact requests are pinned by tests/unit/test_scripted_update.py). The refusals
happen before any request and run everywhere.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch

from odm import ArgumentError, AsyncDocument, Keyword, VersionConflictError
from odm.testing.isolation import isolated


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "scripted-counters"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def counters(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Counter]:
    bound = isolated(Counter, index_prefix)
    await bound.init()
    return bound


@pytest.mark.requires_module("lang-painless")
async def test_a_script_updates_the_stored_document_and_the_instance(counters: type[Counter]) -> None:
    counter = counters(name="c", views=1, meta={"id": "c"})
    await counter.save(refresh=True)
    loaded = await counters.get("c")
    assert await loaded.update(script="ctx._source.views += params.n", params={"n": 2}, refresh=True) == "updated"
    assert loaded.views == 3 and (await counters.get("c")).views == 3
    stale = counter  # its tokens are of the first save
    with pytest.raises(VersionConflictError):
        await stale.update(script="ctx._source.views = 0")
    assert (await counters.get("c")).views == 3


@pytest.mark.requires_module("lang-painless")
async def test_update_by_id_with_a_script_and_an_upsert(counters: type[Counter]) -> None:
    result = await counters.update_by_id(
        "new", script="ctx._source.views += 1", upsert=counters(name="new", views=10), refresh=True
    )
    assert result == "created" and (await counters.get("new")).views == 10
    await counters.update_by_id("new", script={"source": "ctx._source.views += params.n", "params": {"n": 5}}, refresh=True)
    assert (await counters.get("new")).views == 15


async def test_a_script_param_given_twice_is_refused_and_nothing_is_written(counters: type[Counter]) -> None:
    counter = counters(name="c", views=1, meta={"id": "c"})
    await counter.save(refresh=True)
    with pytest.raises(ArgumentError, match="given twice"):
        await counter.update(script="ctx._source.views = params.views", params={"views": 4}, views=5)
    with pytest.raises(ArgumentError, match="given twice"):
        await counters.update_by_id("c", script={"source": "ctx._source.views = params.views", "params": {"views": 4}}, views=5)
    with pytest.raises(ArgumentError, match="go with script="):
        await counters.update_by_id("other", upsert=counters(name="other"), views=5)
    stored = await counters.get("c")
    assert stored.views == 1 and stored.meta.version == 1
    assert not await counters.exists("other")
