"""A migration's own writes whose answers were lost: the lease, the state and the alias swap.

Each is re-sent by odm alone (a POST; the client's and aiohttp's re-sends are off), and a
conflict met after such a re-send is read back: the lease or state document that holds
exactly what this process sent (its write nonce) is its own, and aliases already on the
new index are its own swap. Before, a re-sent lease create or state write met its own
first attempt and the migration stopped with a false MigrationLockedError ("another
process"), and a re-sent swap claimed the lock was lost after it had moved the aliases.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch

from odm import apply
from odm.migrations._run import Options, Run
from odm.testing.faults import Fault, FaultProxy, ResetAfterForwarding
from tests.integration.test_migrate import behind, classes, seed, state_index, stored  # noqa: F401  (fixtures)
from tests.integration.migrate_models import rename


async def test_a_migration_whose_lease_and_state_writes_lost_their_answers_completes(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 30)
    alias = V1.index_name()
    faults: list[Fault] = [  # the lease's create, the state's create, then two of its guarded writes: each answer lost
        ResetAfterForwarding(count=1, method="POST", path=rf"^/{state_index}/_create/lock:{alias}$"),
        ResetAfterForwarding(count=1, method="POST", path=rf"^/{state_index}/_create/{alias}$"),
        ResetAfterForwarding(count=2, method="POST", path=rf"^/{state_index}/_doc/{alias}$"),
    ]
    async with FaultProxy(es_url, faults=faults) as proxy:
        client = AsyncElasticsearch(proxy.url)  # the client's default max_retries=3: odm turns them off
        try:
            result = await apply(V2, client, transform=rename, page_size=10, state_index=state_index)
        finally:
            await client.close()
    assert proxy.stats.injected["reset_after"] == 4
    assert proxy.stats.reached[("POST", f"/{state_index}/_create/lock:{alias}")] == 2  # its re-send met itself
    assert (result.outcome, result.copied) == ("migrated", 30)
    assert await behind(odm_client, alias) == [f"{alias}-v2"]
    assert await stored(odm_client, f"{alias}-v2") == {f"p{n}": {"title": f"post {n}", "views": n} for n in range(30)}
    recorded = (await odm_client.get(index=state_index, id=alias))["_source"]
    assert recorded["phase"] == "done"
    assert not (await odm_client.options(ignore_status=404).get(index=state_index, id=f"lock:{alias}")).body.get("found")


async def test_a_swap_whose_answer_was_lost_is_the_swap_not_a_lost_lock(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    await V2._index.clone(f"{alias}-v2").create(using=odm_client)
    async with FaultProxy(es_url) as proxy:
        client = AsyncElasticsearch(proxy.url)
        try:
            run = Run(V2, client, Options(state_index=state_index))
            await run.store.ensure_index()
            await run.lease.acquire()
            await run.fence.take(f"{alias}-v2")  # taken before: the next _aliases call is the swap itself
            proxy.faults = [ResetAfterForwarding(count=1, method="POST", path=r"^/_aliases$")]
            await run.move_aliases(f"{alias}-v1", f"{alias}-v2")
            await run.lease.release()
        finally:
            await client.close()
    assert proxy.stats.injected["reset_after"] == 1
    assert proxy.stats.reached[("POST", "/_aliases")] == 3  # the fence, the swap, its re-send
    assert await behind(odm_client, alias) == [f"{alias}-v2"]
    fences = await odm_client.options(ignore_status=404).indices.get_alias(name=f"{alias}-fence-*", expand_wildcards="all")
    assert fences.meta.status == 404 or fences.body == {}  # the swap took the owner's fence with it

