"""``apply(server_side=True)`` on the node: Elasticsearch's ``_reindex``, then a validation pass through the model.

The test node lacks the reindex module: the full migration skips there, naming it (the exact requests
are pinned by tests/unit/test_server_copy.py). What runs everywhere: the refusals made before anything
is done, and the validation pass itself, over an index holding raw sources as ``_reindex`` leaves them.
"""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import ArgumentError, MigrationError, MigrationFailedError, apply
from odm.migrations._run import Options, Run
from odm.migrations._state import MigrationState
from odm.migrations._server_step import validate_target
from odm.testing import NodeInfo
from odm.testing.isolation import isolated
from tests.integration.migrate_models import PostV2, PostV3, rename


@pytest.fixture
def state_index(index_prefix: str) -> str:
    return index_prefix + "odm-migrations"


async def seed_v2(cls: type[PostV2], count: int) -> None:
    await cls.init()
    result = await cls.bulk([cls(title=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(count)], refresh=True)
    assert result.ok


async def indices(client: AsyncElasticsearch, prefix: str) -> set[str]:
    return set((await client.indices.get(index=prefix + "*", expand_wildcards="all")).body)


async def test_a_transform_with_server_side_is_refused_before_anything_is_done(
    odm_client: AsyncElasticsearch, index_prefix: str, state_index: str
) -> None:
    V2, V3 = isolated(PostV2, index_prefix), isolated(PostV3, index_prefix)
    await seed_v2(V2, 3)
    before = await indices(odm_client, index_prefix)
    with pytest.raises(ArgumentError, match="a Python transform cannot run there"):
        await apply(V3, transform=rename, server_side=True, state_index=state_index)
    assert await indices(odm_client, index_prefix) == before  # not even the state index


async def test_server_side_on_a_node_without_the_reindex_module_does_nothing(
    odm_client: AsyncElasticsearch, index_prefix: str, state_index: str, es_node: NodeInfo
) -> None:
    if "reindex" in es_node.modules:
        pytest.skip("the test node has the Elasticsearch module reindex")
    V2, V3 = isolated(PostV2, index_prefix), isolated(PostV3, index_prefix)
    await seed_v2(V2, 3)
    alias = V2.index_name()
    with pytest.raises(MigrationError, match="server_side=True needs Elasticsearch's module reindex, which .* lacks"):
        await apply(V3, server_side=True, state_index=state_index)
    assert not await odm_client.indices.exists(index=f"{alias}-v2")
    assert not (await odm_client.options(ignore_status=404).get(index=state_index, id=alias)).body.get("found")
    assert sorted((await odm_client.indices.get_alias(name=alias)).body) == [f"{alias}-v1"]


async def test_the_validation_pass_reports_invalid_copies_as_the_client_copy_does_and_deletes_them_if_accepted(
    odm_client: AsyncElasticsearch, index_prefix: str, state_index: str
) -> None:
    """Sources written raw into the target, as _reindex writes them; the pass reads them through the model."""
    V2 = isolated(PostV2, index_prefix)
    target = index_prefix + "mig-posts-v2"
    await odm_client.bulk(index=target, refresh=True, operations=[
        line for n in range(7) for line in ({"index": {"_id": f"p{n}", "routing": f"r{n % 2}"}},
                                            {"title": f"post {n}", "views": -n if n in (3, 5) else n})
    ])
    for accept in (False, True):
        run = Run(V2, None, Options(page_size=2, accept_invalid=accept, state_index=state_index))
        state = MigrationState(V2.index_name(), "copying", index_prefix + "mig-posts-v1", target, "m:C", "me",
                               server_side=True, copied=7)

        async def validate() -> Any:
            await validate_target(run, state)

        await run.locked(validate)
        assert sorted(run.invalid) == [("p3", "r1"), ("p5", "r1")]
        reason = run.invalid[("p3", "r1")]
        assert reason.startswith(f"hit 'p3' in index '{target}' is not a valid PostV2: views: Input should be greater")
        await odm_client.indices.refresh(index=target)
        left = {hit["_id"] for hit in (await odm_client.search(index=target, size=100))["hits"]["hits"]}
        assert left == ({f"p{n}" for n in range(7)} - ({"p3", "p5"} if accept else set()))  # no write but the deletes
        assert state.copied == (5 if accept else 7)


async def test_apply_server_side_copies_with_reindex_and_rejects_what_the_model_refuses(
    odm_client: AsyncElasticsearch, index_prefix: str, state_index: str, es_node: NodeInfo
) -> None:
    if "reindex" not in es_node.modules:
        pytest.skip("the test node lacks the Elasticsearch module reindex")
    V2, V3 = isolated(PostV2, index_prefix), isolated(PostV3, index_prefix)
    await seed_v2(V2, 40)
    alias = V2.index_name()
    await odm_client.index(index=alias, id="neg", document={"title": "negative", "views": -1}, refresh=True)

    with pytest.raises(MigrationFailedError) as failed:
        await apply(V3, server_side=True, page_size=10, state_index=state_index)
    assert [r.id for r in failed.value.result.invalid] == ["neg"]
    assert sorted((await odm_client.indices.get_alias(name=alias)).body) == [f"{alias}-v1"]

    result = await apply(V3, server_side=True, accept_invalid=True, page_size=10, state_index=state_index)
    # The failed run's target was deleted (it carried that run's id) and made anew; "neg" was copied, then deleted.
    assert (result.outcome, result.target, result.total, result.copied) == ("migrated", f"{alias}-v2", 41, 40)
    assert [r.id for r in result.invalid] == ["neg"]
    await odm_client.indices.refresh(index=f"{alias}-v2")
    hits = (await odm_client.search(index=f"{alias}-v2", size=100))["hits"]["hits"]
    assert {hit["_id"]: hit["_source"] for hit in hits} == {f"p{n}": {"title": f"post {n}", "views": n} for n in range(40)}
    assert sorted((await odm_client.indices.get_alias(name=alias)).body) == [f"{alias}-v2"]
