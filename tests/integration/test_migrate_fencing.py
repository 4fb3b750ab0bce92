"""A migrating process paused (SIGSTOP) inside a page, taken over, then continued: it lands no write.

The worker (tests/integration/fence_worker.py) stops itself in the transform, after its
lease was checked and before the page is written. ``resume`` here takes the lock over once
the worker's lease expired and finishes; users then change every document and delete 10%.
When the worker continues, Elasticsearch refuses every write of its page: its fence alias
is gone (``docs/migrations.md``, "Fencing").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, AuthorizationException, NotFoundError

from odm import MigrationLockedError, apply, resume, rollback
from odm.migrations._copy import Copier
from odm.schema._fence import Fence
from odm.migrations._run import versions
from odm.migrations._server_copy import poll_reindex, start_reindex
from odm.testing import NodeInfo
from odm.testing.isolation import isolated
from tests.integration.migrate_models import (
    STOP_AT_CALL,
    PostV1,
    PostV2,
    rename,
    rename_back_pausing,
    rename_pausing,
)

DOCS = 300  # three pages of 100


def start_worker(es_url: str, prefix: str, state_index: str, call: str, stop_at: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.integration.fence_worker", es_url, prefix, state_index, call]
    env = {**os.environ, STOP_AT_CALL: str(stop_at)}
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_stopped(worker: subprocess.Popen[str]) -> None:
    """Until the worker stopped itself (state T); it must not have ended."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.communicate()[1]
        with open(f"/proc/{worker.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.05)
    worker.kill()
    raise AssertionError("the worker never reached its pause")


def continue_until_done(worker: subprocess.Popen[str]) -> tuple[int, str]:
    os.kill(worker.pid, signal.SIGCONT)
    _, stderr = worker.communicate(timeout=120)
    return worker.returncode, stderr


async def users_change_everything(
    client: AsyncElasticsearch, alias: str, field: str, numbers: list[int], views: int
) -> dict[str, Any]:
    """Every document ``p<n>`` of ``numbers`` changed through the alias (``views`` + n), a tenth of them
    deleted; what the live index must hold."""
    operations: list[dict[str, Any]] = []
    expected: dict[str, Any] = {}
    for position, n in enumerate(numbers):
        if position % 10 == 0:
            operations.append({"delete": {"_index": alias, "_id": f"p{n}"}})
        else:
            operations += [{"update": {"_index": alias, "_id": f"p{n}"}}, {"doc": {"views": views + n}}]
            expected[f"p{n}"] = {field: f"post {n}", "views": views + n}
    answer = await client.bulk(operations=operations, refresh=True)
    assert not answer["errors"]
    return expected


async def contents(client: AsyncElasticsearch, index: str) -> dict[str, Any]:
    await client.indices.refresh(index=index)
    hits = (await client.search(index=index, size=2 * DOCS))["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


async def no_fence_left(client: AsyncElasticsearch, alias: str) -> bool:
    answer = await client.options(ignore_status=404).indices.get_alias(name=f"{alias}-fence-*", expand_wildcards="all")
    return answer.meta.status == 404 or not any(entry["aliases"] for entry in answer.body.values())


async def held() -> bool:
    return True


async def lost() -> bool:
    return False


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> tuple[type[PostV1], type[PostV2], str]:
    V1, V2 = isolated(PostV1, index_prefix), isolated(PostV2, index_prefix)
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(DOCS)], refresh=True)
    return V1, V2, index_prefix + "odm-migrations"


async def test_a_paused_owner_taken_over_lands_no_document_after_the_swap(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, V2, state_index = posts
    alias = V1.index_name()
    worker = start_worker(es_url, index_prefix, state_index, "apply", stop_at=150)  # in the second page
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target, result.copied) == ("migrated", f"{alias}-v2", DOCS)
        expected = await users_change_everything(odm_client, alias, "title", list(range(DOCS)), 1000)
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await contents(odm_client, f"{alias}-v2") == expected  # nothing reverted, no deleted one back
    assert returncode == 3, stderr  # MigrationLockedError: its writes were refused
    assert "fence" in stderr
    created = sorted((await odm_client.indices.get(index=f"{index_prefix}*", expand_wildcards="all")).body)
    assert created == sorted([f"{alias}-v1", f"{alias}-v2", state_index])  # no index made by a refused write
    assert await no_fence_left(odm_client, alias)
    assert (await resume(V2, transform=rename_pausing, state_index=state_index)).outcome == "nothing"


async def test_a_paused_catch_up_taken_over_lands_no_document_and_lifts_no_block(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, V2, state_index = posts
    alias = V1.index_name()
    # The copy transforms DOCS documents; the catch-up then writes p5 and late (changed during the copy) again.
    worker = start_worker(es_url, index_prefix, state_index, "apply-changing", stop_at=DOCS + 1)
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target, result.caught_up) == ("migrated", f"{alias}-v2", 2)
        expected = await users_change_everything(odm_client, alias, "title", list(range(DOCS)), 1000)
        expected["late"] = {"title": "late", "views": 0}
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await contents(odm_client, f"{alias}-v2") == expected  # p5 is not back at 5000
    assert returncode == 3, stderr
    assert "fence" in stderr
    with pytest.raises(AuthorizationException):  # the old index keeps its block: the loser lifted nothing
        await odm_client.index(index=f"{alias}-v1", id="late2", document={"name": "late"})
    assert await no_fence_left(odm_client, alias)


async def test_a_paused_rollback_taken_over_lands_no_document_after_its_swap(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, V2, state_index = posts
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)
    # After the swap: changed (and deleted) in the new index, so the rollback copies all of them back.
    kept = await users_change_everything(odm_client, alias, "title", list(range(DOCS)), 1000)
    # The rollback reads every changed document through the transform first, then copies: stop in the copy.
    worker = start_worker(es_url, index_prefix, state_index, "rollback", stop_at=len(kept) + 50)
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_back_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target, result.copied) == ("rolled_back", f"{alias}-v1", len(kept))
        numbers = sorted(int(id[1:]) for id in kept)
        expected = await users_change_everything(odm_client, alias, "name", numbers, 2000)
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await contents(odm_client, f"{alias}-v1") == expected
    assert returncode == 3, stderr
    assert "fence" in stderr
    assert await no_fence_left(odm_client, alias)


async def test_an_older_owner_cannot_take_the_fence_or_write_once_a_newer_one_took_it(
    odm_client: AsyncElasticsearch, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, _, _ = posts
    alias, index = V1.index_name(), f"{V1.index_name()}-v1"
    older, newer = Fence(odm_client, alias, (1, 5), "older", held), Fence(odm_client, alias, (1, 9), "newer", held)
    stale = Copier(odm_client, alias, V1, index, fence=older)
    assert await older.take(index) == f"{alias}-fence-1-5"
    await newer.take(index)  # removes the older fence in the same call that adds its own
    assert not await older.exists() and await newer.exists()
    before = await contents(odm_client, index)
    hit = {"_id": "p1", "_index": index, "_source": {"name": "stale", "views": -1}}
    with pytest.raises(MigrationLockedError, match="fence"):
        await stale.copy([hit])  # the catch-up's and the rollback's writes are this copier's
    with pytest.raises(MigrationLockedError, match="fence"):
        await stale.delete([("p2", None)])  # the catch-up's deletes too
    with pytest.raises(MigrationLockedError, match="newer owner"):
        await Fence(odm_client, alias, (1, 5), "older", held).take(index)  # and it cannot take it back
    await newer.drop()
    taken_over = Fence(odm_client, alias, (1, 5), "older", lost)  # the newest fence, but its lease is gone
    with pytest.raises(MigrationLockedError, match="taken over"):
        await taken_over.take(index)
    assert await no_fence_left(odm_client, alias)  # it dropped the fence it had added
    await newer.take(index)
    await Fence(odm_client, alias, (1, 12), "newest", held).remove_older()  # what a takeover does first
    assert await contents(odm_client, index) == before
    assert await no_fence_left(odm_client, alias)


async def settings_of(client: AsyncElasticsearch, *indices: str) -> dict[str, Any]:
    """Every setting of ``indices`` as the node keeps them (blocks included), read with the raw client."""
    answer = await client.indices.get_settings(index=",".join(indices), flat_settings=True)
    return {index: body["settings"] for index, body in answer.body.items()}


async def test_a_paused_catch_up_taken_over_lifts_no_block_and_changes_no_setting_when_it_fails_later(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    """Paused right after it blocked the source; continued, its progress callback raises, so it lifts its block
    on the way out: through its settings fence, which the takeover removed. Unfenced, that call lifted the
    block the new owner had put on the old index (writes there would be lost at a swap)."""
    V1, V2, state_index = posts
    alias = V1.index_name()
    old, new = f"{alias}-v1", f"{alias}-v2"
    worker = start_worker(es_url, index_prefix, state_index, "apply-paused-at-block", stop_at=0)
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target, result.copied) == ("migrated", new, DOCS)
        settings, documents = await settings_of(odm_client, old, new), {i: await contents(odm_client, i) for i in (old, new)}
        assert settings[old]["index.blocks.write"] == "true"  # the new owner's block, kept on the old index
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await settings_of(odm_client, old, new) == settings  # the block stays, nothing else changed
    assert {i: await contents(odm_client, i) for i in (old, new)} == documents
    assert returncode == 3, stderr  # MigrationLockedError: Elasticsearch refused the unblock
    assert "refused a settings call through its fence" in stderr
    with pytest.raises(AuthorizationException):
        await odm_client.index(index=old, id="late", document={"name": "late"})
    assert await no_fence_left(odm_client, alias)


async def test_a_paused_owner_taken_over_before_its_swap_does_not_set_the_live_index_settings_back(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    """Paused after its catch-up, before the swap; the new owner swaps and the user changes the live index's
    refresh interval. Continued, the paused owner finds the aliases moved and sets the target's settings back:
    through a fence it can no longer take, so the user's setting stays."""
    V1, V2, state_index = posts
    alias = V1.index_name()
    old, new = f"{alias}-v1", f"{alias}-v2"
    worker = start_worker(es_url, index_prefix, state_index, "apply-paused-at-verify", stop_at=0)
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target) == ("migrated", new)
        await odm_client.indices.put_settings(index=alias, settings={"index.refresh_interval": "7s"})
        settings, documents = await settings_of(odm_client, old, new), {i: await contents(odm_client, i) for i in (old, new)}
        assert settings[new]["index.refresh_interval"] == "7s"
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await settings_of(odm_client, old, new) == settings  # the user's refresh interval stays
    assert {i: await contents(odm_client, i) for i in (old, new)} == documents
    assert returncode == 3, stderr
    assert "fence" in stderr
    assert await no_fence_left(odm_client, alias)


async def test_a_paused_rollback_taken_over_lifts_no_block_when_it_fails_later(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, V2, state_index = posts
    alias = V1.index_name()
    old, new = f"{alias}-v1", f"{alias}-v2"
    await apply(V2, transform=rename, state_index=state_index)
    worker = start_worker(es_url, index_prefix, state_index, "rollback-paused-at-block", stop_at=0)
    try:
        wait_until_stopped(worker)
        result = await resume(V2, transform=rename_back_pausing, page_size=100, wait=30, state_index=state_index)
        assert (result.outcome, result.target) == ("rolled_back", old)
        settings, documents = await settings_of(odm_client, old, new), {i: await contents(odm_client, i) for i in (old, new)}
        assert settings[new]["index.blocks.write"] == "true"  # the rolled-back index keeps the new owner's block
    finally:
        returncode, stderr = continue_until_done(worker)
    assert await settings_of(odm_client, old, new) == settings
    assert {i: await contents(odm_client, i) for i in (old, new)} == documents
    assert returncode == 3, stderr
    assert "refused a settings call through its fence" in stderr
    assert await no_fence_left(odm_client, alias)


async def test_settings_calls_through_an_older_owners_fence_are_refused_and_change_nothing(
    odm_client: AsyncElasticsearch, index_prefix: str, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    V1, _, _ = posts
    alias, index, other = V1.index_name(), f"{V1.index_name()}-v1", index_prefix + "other"
    await odm_client.indices.create(index=other)
    lease = {"older": True}

    async def older_held() -> bool:  # what the lease document says: the older owner's until the takeover
        return lease["older"]

    older, newer = Fence(odm_client, alias, (1, 5), "older", older_held), Fence(odm_client, alias, (1, 9), "newer", held)
    assert await older.on(index) == f"{alias}-fence-1-5-v1"  # one settings fence per index, named for it
    await older.block(index)
    assert (await settings_of(odm_client, index))[index]["index.blocks.write"] == "true"
    assert (await settings_of(odm_client, other))[other].get("index.blocks.write") is None  # that index alone
    lease["older"] = False
    await newer.remove_older()  # a takeover: the older owner's settings fences go with its write fence
    before = await settings_of(odm_client, index, other)
    with pytest.raises(MigrationLockedError, match="refused a settings call through its fence"):
        await older.put_settings(index, {"index.blocks.write": None})  # the unblock of a paused owner
    with pytest.raises(MigrationLockedError, match="refused a settings call through its fence"):
        await older.block(index)
    await newer.on(index)
    with pytest.raises(MigrationLockedError, match="newer owner"):
        await older.block(other)  # a new settings fence cannot be taken either
    assert await settings_of(odm_client, index, other) == before
    await odm_client.indices.create(index=f"{alias}-v7")
    assert await newer.on(f"{alias}-v7") == f"{alias}-fence-1-9-v7"
    assert (f"{alias}-v7", 7, False) in await versions(odm_client, alias)  # a fence makes no version live
    await newer.drop()
    assert await no_fence_left(odm_client, alias)
    await odm_client.indices.put_settings(index=index, settings={"index.blocks.write": None})


async def test_a_reindex_through_a_removed_fence_writes_nothing_and_creates_no_index(
    odm_client: AsyncElasticsearch, index_prefix: str, es_node: NodeInfo, posts: tuple[type[PostV1], type[PostV2], str]
) -> None:
    """What a takeover does to the server-side copy of the older owner: its fence is gone, so the task it
    starts (or the next batch of the one it runs) is refused. The requests themselves are pinned by
    tests/unit/test_server_copy.py."""
    if "reindex" not in es_node.modules:
        pytest.skip("the test node lacks the Elasticsearch module reindex")
    V1, _, _ = posts
    alias, target = V1.index_name(), f"{V1.index_name()}-v2"
    await odm_client.indices.create(index=target)
    older = Fence(odm_client, alias, (1, 5), "older", held)
    fence = await older.take(target)
    await Fence(odm_client, alias, (1, 9), "newer", held).remove_older()
    try:
        task_id = await start_reindex(odm_client, f"{alias}-v1", fence, 100)
    except NotFoundError:
        pass  # refused before it started
    else:
        task = await poll_reindex(odm_client, task_id, lambda _: None)
        assert task is not None and task.problems and task.written == 0, task
    await odm_client.indices.refresh(index=target)
    assert (await odm_client.count(index=target))["count"] == 0
    assert not await odm_client.indices.exists(index=fence)  # no index of the fence's name
