"""AsyncUpdateByQuery against the real node.

The update itself needs Elasticsearch's ``reindex`` module (and ``lang-painless`` for a
script); those tests run on a full node. On a node without the module, the user gets
the client's own error and nothing changes: that is tested too.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from elasticsearch import AsyncElasticsearch, BadRequestError

from odm.testing import NodeInfo
from odm.testing.isolation import isolated
from tests.models.blog import Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    for n in range(4):
        tags = ["python"] if n % 2 else ["java"]
        await bound(title=f"post {n}", tags=tags, views=n, created_at=WHEN, meta={"id": f"p{n}"}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


@pytest.mark.requires_module("reindex")
async def test_an_update_without_a_script_rewrites_the_matching_documents(posts: type[Post]) -> None:
    ubq = posts.update_by_query().filter("term", tags="python").params(conflicts="proceed", refresh=True)
    result = await ubq.execute()
    assert (result.total, result.updated, result.version_conflicts, result.noops) == (2, 2, 0, 0)
    assert result.batches == 1 and result.failures == [] and result.success()
    assert [(await posts.get(f"p{n}")).meta.version for n in range(4)] == [1, 2, 1, 2]


@pytest.mark.requires_module("reindex")
@pytest.mark.requires_module("lang-painless")
async def test_a_script_updates_the_matching_documents(posts: type[Post]) -> None:
    ubq = (
        posts.update_by_query()
        .filter("term", tags="java")
        .script(source="ctx._source.views += params.n", lang="painless", params={"n": 10})
        .params(conflicts="proceed", refresh=True)
    )
    result = await ubq.execute()
    assert (result.total, result.updated) == (2, 2) and result.success()
    assert [(await posts.get(f"p{n}")).views for n in range(4)] == [10, 1, 12, 3]


async def test_without_the_reindex_module_the_client_error_surfaces_and_nothing_changes(
    posts: type[Post], es_node: NodeInfo
) -> None:
    if "reindex" in es_node.modules:
        pytest.skip("this node has the reindex module: the update runs (see the tests above)")
    ubq = posts.update_by_query().filter("term", tags="python").params(conflicts="proceed", refresh=True)
    with pytest.raises(BadRequestError) as caught:
        await ubq.execute()
    assert caught.value.status_code == 400
    assert caught.value.error.startswith(f"no handler found for uri [/{posts.index_name()}/_update_by_query")
    assert [(await posts.get(f"p{n}")).meta.version for n in range(4)] == [1, 1, 1, 1]
