"""A migrating process killed with SIGKILL at each phase, then resume: the exact expected result.

The migration runs in a subprocess (tests/integration/migrate_worker.py) that kills itself
at the chosen progress event, with a one-second lease; ``resume`` here waits for that lease
to expire and takes over.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, AuthorizationException

from odm import MigrationLockedError, MigrationStateError, Progress, apply, resume
from odm.testing.isolation import isolated
from tests.integration.migrate_models import PostV1, PostV2, rename, rename_back

DOCS = 230

# (phase, nth event of it): where the worker dies, whether the old index is write-blocked then,
# the copy phase's first count in resume (None: resume does not copy), and how many documents the
# catch-up writes again. The copy phase always ends at DOCS copied (one deleted and one new, or none).
KILLS = [
    ("create", 1, False, 50, 0),  # the new index exists, nothing copied: all of it, from 0, after the writes
    ("copy", 2, False, 150, 2),  # two pages of 50 copied: on from the checkpoint, then 2 changed ones caught up
    ("block", 1, True, None, 0),  # the old index is blocked, nothing caught up
    ("catch_up", 1, True, None, 0),  # caught up and deletes done, not verified
    ("verify", 1, True, None, 0),  # verified, state "swapping", aliases not moved
    ("swap", 1, True, None, 0),  # aliases moved, settings and state not finished
]


def kill_worker_at(es_url: str, prefix: str, state_index: str, phase: str, nth: int) -> None:
    argv = [sys.executable, "-m", "tests.integration.migrate_worker", es_url, prefix, state_index, phase, str(nth)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr  # SIGKILL, at the phase asked


async def blocked(client: AsyncElasticsearch, index: str) -> bool:
    settings = (await client.indices.get_settings(index=index, flat_settings=True))[index]["settings"]
    return bool(settings.get("index.blocks.write") == "true")


@pytest.mark.parametrize(
    ("phase", "nth", "blocked_after_kill", "first_copy_event", "caught_up"), KILLS, ids=[kill[0] for kill in KILLS]
)
async def test_killed_at_a_phase_then_resumed_ends_exactly_as_expected(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str, phase: str, nth: int, blocked_after_kill: bool,
    first_copy_event: int | None, caught_up: int,
) -> None:
    V1, V2 = isolated(PostV1, index_prefix), isolated(PostV2, index_prefix)
    alias, state_index = V1.index_name(), index_prefix + "odm-migrations"
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(DOCS)], refresh=True)
    expected: dict[str, Any] = {f"p{n}": {"title": f"post {n}", "views": n} for n in range(DOCS)}

    kill_worker_at(es_url, index_prefix, state_index, phase, nth)
    old, new = f"{alias}-v1", f"{alias}-v2"
    assert await blocked(odm_client, old) is blocked_after_kill
    if blocked_after_kill:  # writers fail loudly meanwhile: nothing is accepted and then lost
        with pytest.raises(AuthorizationException):
            await odm_client.index(index=old, id="late", document={"name": "late"})
    else:  # written while nobody migrates: resume must carry them over
        await odm_client.index(index=alias, id="late", document={"name": "late", "views": 1})
        await odm_client.delete(index=alias, id="p0")
        await odm_client.update(index=alias, id="p229", doc={"views": 5})
        expected |= {"late": {"title": "late", "views": 1}, "p229": {"title": "post 229", "views": 5}}
        del expected["p0"]

    with pytest.raises(MigrationStateError, match="transform"):  # not the interrupted one's
        await resume(V2, transform=rename_back, state_index=state_index, wait=5)  # the 1 s lease expires meanwhile
    with pytest.raises(MigrationStateError, match="run resume"):
        await apply(V2, transform=rename, state_index=state_index)  # apply does not run over it

    events: list[Progress] = []
    result = await resume(V2, transform=rename, page_size=50, state_index=state_index, on_progress=events.append)
    assert (result.outcome, result.source, result.target) == ("migrated", old, new)
    assert (result.total, result.copied, result.caught_up) == (DOCS, DOCS, caught_up)
    assert next((event.copied for event in events if event.phase == "copy"), None) == first_copy_event
    assert str(result).startswith(f"{alias}: migrated {old} -> {new}: {DOCS} copied of {DOCS}, {caught_up} caught up, ")
    assert sorted((await odm_client.indices.get_alias(name=alias)).body) == [new]
    await odm_client.indices.refresh(index=new)
    hits = (await odm_client.search(index=new, size=1000))["hits"]["hits"]
    assert {hit["_id"]: hit["_source"] for hit in hits} == expected
    assert await blocked(odm_client, old) and not await blocked(odm_client, new)
    assert (await resume(V2, transform=rename, state_index=state_index)).outcome == "nothing"


async def test_a_live_lease_is_not_taken_over_without_force(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str
) -> None:
    V1, V2 = isolated(PostV1, index_prefix), isolated(PostV2, index_prefix)
    state_index = index_prefix + "odm-migrations"
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(DOCS)], refresh=True)
    kill_worker_at(es_url, index_prefix, state_index, "copy", 1)
    lease = (await odm_client.get(index=state_index, id=f"lock:{V1.index_name()}"))["_source"]
    await odm_client.index(  # the dead owner's lease, as if it were still renewed
        index=state_index, id=f"lock:{V1.index_name()}", document={**lease, "expires_at": lease["expires_at"] + 600}
    )
    with pytest.raises(MigrationLockedError) as locked:
        await resume(V2, transform=rename, state_index=state_index)
    assert locked.value.owner == lease["owner"]
    result = await resume(V2, transform=rename, state_index=state_index, force=True)
    assert result.outcome == "migrated" and result.target == f"{V1.index_name()}-v2"
