"""odm.migrate on the node: plan, apply through the model, rejected documents, concurrent writes, the lock,
rollback and prune. The SIGKILL-and-resume tests are in test_migrate_resume.py, the commands in test_migrate_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.request
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, AuthorizationException

from odm import (
    ArgumentError,
    IndexBlockedError,
    MigrationFailedError,
    MigrationLockedError,
    MigrationStateError,
    Progress,
    PruneResult,
    VersionedIndexError,
    apply,
    plan,
    prune,
    resume,
    rollback,
)
from odm.migrations._state import MigrationState, StateStore
from odm.testing.faults import FaultProxy, RejectBulkItems
from odm.testing.isolation import isolated
from tests.integration.migrate_models import (
    SETTINGS,
    PostV1,
    PostV2,
    PostV3,
    Unversioned,
    UnversionedV2,
    rename,
    rename_back,
    rename_dropping_drafts,
)


@pytest.fixture
def classes(index_prefix: str) -> tuple[type[PostV1], type[PostV2], type[PostV3]]:
    return isolated(PostV1, index_prefix), isolated(PostV2, index_prefix), isolated(PostV3, index_prefix)


@pytest.fixture
def state_index(index_prefix: str) -> str:
    return index_prefix + "odm-migrations"


async def stored(client: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    """Every document of ``index``: id -> _source."""
    await client.indices.refresh(index=index)
    answer = await client.search(index=index, size=10_000, sort=["_doc"])
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


async def behind(client: AsyncElasticsearch, alias: str) -> list[str]:
    return sorted((await client.indices.get_alias(name=alias)).body)


async def write_blocked(client: AsyncElasticsearch, index: str) -> bool:
    settings = (await client.indices.get_settings(index=index, flat_settings=True))[index]["settings"]
    return bool(settings.get("index.blocks.write") == "true")


async def seed(cls: type[PostV1], count: int) -> None:
    await cls.init()
    documents = [cls(name=f"post {n}", views=n, meta={"id": f"p{n}", "routing": f"r{n % 3}"}) for n in range(count)]
    result = await cls.bulk(documents, refresh=True)
    assert result.ok


async def test_apply_copies_every_document_through_the_new_model_and_a_second_apply_is_a_no_op(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, index_prefix: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 120)
    alias = V1.index_name()
    before = (await odm_client.indices.get(index=index_prefix + "*", expand_wildcards="all")).body

    planned = await plan(V2, state_index=state_index)
    assert (planned.action, planned.source, planned.target) == ("migrate", f"{alias}-v1", f"{alias}-v2")
    assert {change.path: change.kind for change in planned.drift.changes}["name"] == "new_index"
    assert (await odm_client.indices.get(index=index_prefix + "*", expand_wildcards="all")).body == before  # plan wrote nothing, not even the state index

    events: list[Progress] = []
    result = await apply(V2, transform=rename, page_size=50, on_progress=events.append, state_index=state_index)
    assert (result.outcome, result.source, result.target) == ("migrated", f"{alias}-v1", f"{alias}-v2")
    assert (result.total, result.copied, result.invalid_count, result.dropped_count) == (120, 120, 0, 0)
    assert [e.phase for e in events if e.phase != "copy"] == ["create", "block", "catch_up", "verify", "swap", "done"]
    assert [e.copied for e in events if e.phase == "copy"] == [50, 100, 120]

    assert await behind(odm_client, alias) == [f"{alias}-v2"]
    copied = await stored(odm_client, f"{alias}-v2")
    assert copied == {f"p{n}": {"title": f"post {n}", "views": n} for n in range(120)}
    routed = await V2.get("p4", routing="r1")  # same id and routing
    assert (routed.title, routed.meta.index) == ("post 4", f"{alias}-v2")
    assert await write_blocked(odm_client, f"{alias}-v1")  # the old index is the rollback source: no stale writes
    assert not await write_blocked(odm_client, f"{alias}-v2")
    settings = (await odm_client.indices.get_settings(index=f"{alias}-v2", flat_settings=True))[f"{alias}-v2"]
    assert settings["settings"]["index.number_of_replicas"] == "0"  # the class's value, set back after the copy
    assert "index.refresh_interval" not in settings["settings"]  # the default again

    assert (await plan(V2, state_index=state_index)).action == "nothing"
    again = await apply(V2, transform=rename, state_index=state_index)
    assert again.outcome == "nothing"
    assert await behind(odm_client, alias) == [f"{alias}-v2"]


class PostV2ThreeShards(PostV2):
    """V2 on three shards: a document's routing picks another shard than in V1's two."""

    class Index:
        name = "mig-posts"
        versioned = True
        settings = {**SETTINGS, "number_of_shards": 3}


def block_writes_now(es_url: str, index: str) -> None:
    """Add a write block to ``index`` from outside the event loop, as another process would, before returning."""
    request = urllib.request.Request(f"{es_url}/{index}/_block/write", method="PUT")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


def delete_now(es_url: str, index: str, id: str) -> None:
    """Delete a document from outside the event loop (another writer), refreshed, before returning."""
    request = urllib.request.Request(f"{es_url}/{index}/_doc/{id}?refresh=true", method="DELETE")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


async def test_the_id_pass_is_skipped_when_nothing_was_rejected_and_the_counts_agree(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(60)], refresh=True)
    phases: list[str] = []
    await apply(V2, transform=rename, page_size=20, on_progress=lambda e: phases.append(e.phase), state_index=state_index)
    assert "id_pass" not in phases and "catch_up" in phases
    assert await stored(odm_client, f"{V1.index_name()}-v2") == {f"p{n}": {"title": f"post {n}", "views": n} for n in range(60)}


async def test_a_delete_made_during_the_copy_makes_the_id_pass_run_and_removes_the_copy(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    V1, V2, _ = classes
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(60)], refresh=True)
    alias = V1.index_name()
    phases: list[str] = []

    def on_progress(event: Progress) -> None:
        if event.phase == "copy" and "copy" not in phases:  # after the first page, p5 is copied already
            delete_now(es_url, f"{alias}-v1", "p5")
        phases.append(event.phase)

    result = await apply(V2, transform=rename, page_size=20, on_progress=on_progress, state_index=state_index)
    assert result.copied == 60  # p5 was copied, in the point in time
    assert "id_pass" in phases and phases.index("block") < phases.index("id_pass") < phases.index("catch_up")
    copied = await stored(odm_client, f"{alias}-v2")
    assert "p5" not in copied and len(copied) == 59


async def test_routed_documents_into_another_shard_count_make_the_id_pass_run(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, index_prefix: str
) -> None:
    V1 = classes[0]
    V2 = isolated(PostV2ThreeShards, index_prefix)
    await seed(V1, 30)  # routed: two ids under two routings could meet in one of three shards
    phases: list[str] = []
    await apply(V2, transform=rename, on_progress=lambda e: phases.append(e.phase), state_index=state_index)
    assert "id_pass" in phases
    assert len(await stored(odm_client, f"{V1.index_name()}-v2")) == 30


async def test_apply_creates_a_missing_index_and_applies_in_place_changes_with_init(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, _, _ = classes
    created = await apply(V1, state_index=state_index)
    assert created.outcome == "initialized"
    assert await behind(odm_client, V1.index_name()) == [V1.index_name() + "-v1"]
    assert (await apply(V1, state_index=state_index)).outcome == "nothing"


async def test_rejected_documents_stop_the_swap_and_are_reported_by_id(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 30)
    alias = V1.index_name()
    for n in (3, 17):  # V1 takes negative views; V2 does not
        await odm_client.index(index=alias, id=f"p{n}", routing=f"r{n % 3}", document={"name": "bad", "views": -n})
    await odm_client.indices.refresh(index=alias)

    with pytest.raises(MigrationFailedError) as failed:
        await apply(V2, transform=rename, state_index=state_index)
    result = failed.value.result
    assert sorted(r.id for r in result.invalid) == ["p17", "p3"] and result.invalid_count == 2
    assert "greater than or equal to 0" in result.invalid[0].reason
    assert f"{alias}-v2 is left for inspection" in str(failed.value)
    assert await behind(odm_client, alias) == [f"{alias}-v1"]  # no swap
    assert not await write_blocked(odm_client, f"{alias}-v1")  # writable again
    await odm_client.index(index=alias, id="after", document={"name": "still writable"}, refresh=True)

    accepted = await apply(V2, transform=rename, accept_invalid=True, state_index=state_index)
    assert accepted.outcome == "migrated" and accepted.target == f"{alias}-v2"  # the leftover was deleted, v2 made anew
    assert sorted(r.id for r in accepted.invalid) == ["p17", "p3"]
    copied = await stored(odm_client, f"{alias}-v2")
    assert len(copied) == 29 and "p3" not in copied and copied["after"] == {"title": "still writable", "views": 0}
    assert (await stored(odm_client, f"{alias}-v1"))["p3"] == {"name": "bad", "views": -3}  # kept in the old index


async def test_the_transform_drops_documents_and_a_failing_transform_rejects_them(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 10)
    alias = V1.index_name()
    await odm_client.index(index=alias, id="d1", document={"name": "draft one"}, refresh=True)
    result = await apply(V2, transform=rename_dropping_drafts, state_index=state_index)
    assert result.dropped == ("d1",) and result.dropped_count == 1
    assert sorted(await stored(odm_client, f"{alias}-v2")) == sorted(f"p{n}" for n in range(10))

    def broken(source: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("nope")

    V3 = classes[2]
    with pytest.raises(MigrationFailedError) as failed:
        await apply(V3, transform=broken, state_index=state_index)
    assert failed.value.result.invalid_count == 10
    assert "the transform raised KeyError: 'nope'" in failed.value.result.invalid[0].reason

    def not_a_dict(source: dict[str, Any]) -> Any:
        return [source]

    with pytest.raises(MigrationFailedError) as failed:
        await apply(V3, transform=not_a_dict, state_index=state_index)
    assert failed.value.result.invalid_count == 10
    assert failed.value.result.invalid[0].reason == "the transform returned list, not a dict (or None)"


async def test_writes_updates_and_deletes_during_the_migration_end_equal_to_an_oracle(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    alias = V1.index_name()
    await V1.init()
    oracle: dict[str, dict[str, Any]] = {}  # what the new index must hold, in V2's shape
    await odm_client.bulk(
        operations=[line for n in range(400) for line in ({"index": {"_id": f"p{n}"}}, {"name": f"p{n}", "views": n})],
        index=alias, refresh=True,
    )
    oracle.update({f"p{n}": {"title": f"p{n}", "views": n} for n in range(400)})
    done = asyncio.Event()
    phases: list[str] = []
    during_copy = blocked = 0
    rng = random.Random(12)

    async def one_write(n: int, shape: str) -> None:
        """One random index, update or delete through the alias, in the writer's current shape."""
        key = f"p{rng.randrange(500)}"
        kind = rng.choice(["index", "update", "delete"])
        name = "title" if shape == "v2" else "name"
        if kind == "index":
            await odm_client.index(index=alias, id=key, document={name: f"w{n}", "views": n})
            oracle[key] = {"title": f"w{n}", "views": n}
        elif kind == "update" and key in oracle:
            await odm_client.update(index=alias, id=key, doc={"views": n + 1000})
            oracle[key] = {**oracle[key], "views": n + 1000}
        elif kind == "delete" and key in oracle:
            await odm_client.delete(index=alias, id=key)
            del oracle[key]

    async def writer() -> None:
        nonlocal during_copy, blocked
        n, shape = 0, "v1"
        while not done.is_set():
            state = rng.getstate()
            try:
                await one_write(n, shape)
                during_copy += phases[-1:] == ["copy"]
            except AuthorizationException as error:  # cluster_block_exception: the short final pass
                assert error.error == "cluster_block_exception"
                blocked += 1
                rng.setstate(state)  # the same write again, once the alias moved: as the new code
                await done.wait()
                shape = "v2"
                await one_write(n, shape)
                return
            n += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    result = await apply(
        V2, transform=rename, page_size=40, on_progress=lambda event: phases.append(event.phase), state_index=state_index
    )
    done.set()
    await task
    assert result.outcome == "migrated"
    assert during_copy > 5  # the test did write while the copy ran
    assert await stored(odm_client, f"{alias}-v2") == oracle


async def test_two_applies_at_once_one_is_refused_the_lock_and_the_end_state_is_right(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 200)
    alias = V1.index_name()
    first, second = await asyncio.gather(
        apply(V2, transform=rename, page_size=50, state_index=state_index),
        apply(V2, transform=rename, page_size=50, state_index=state_index),
        return_exceptions=True,
    )
    outcomes = sorted([first, second], key=lambda outcome: isinstance(outcome, BaseException))
    assert getattr(outcomes[0], "outcome", None) == "migrated"
    assert isinstance(outcomes[1], MigrationLockedError)
    assert outcomes[1].alias == alias and outcomes[1].owner and "the lock is held by" in str(outcomes[1])
    assert await behind(odm_client, alias) == [f"{alias}-v2"]
    assert len(await stored(odm_client, f"{alias}-v2")) == 200

    V3 = classes[2]  # with wait, whichever comes second waits for the first, then finds nothing left to do
    waited = await asyncio.gather(
        apply(V3, state_index=state_index, page_size=50, wait=60), apply(V3, state_index=state_index, wait=60)
    )
    assert sorted(outcome.outcome for outcome in waited) == ["migrated", "nothing"]
    assert await behind(odm_client, alias) == [f"{alias}-v3"]


async def test_a_class_that_is_not_versioned_is_refused_with_a_pointer_to_adopt(
    odm_client: AsyncElasticsearch, index_prefix: str, state_index: str
) -> None:
    Plain, PlainV2 = isolated(Unversioned, index_prefix), isolated(UnversionedV2, index_prefix)
    await Plain.init()
    assert (await plan(PlainV2, state_index=state_index)).action == "adopt"
    before = (await odm_client.indices.get(index=index_prefix + "*", expand_wildcards="all")).body
    with pytest.raises(MigrationStateError, match="adopt"):
        await apply(PlainV2, state_index=state_index)
    after = (await odm_client.indices.get(index=index_prefix + "*", expand_wildcards="all")).body
    assert set(after) - set(before) <= {state_index}  # no new index but the state index


async def test_rollback_copies_back_the_writes_made_after_the_swap(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, index_prefix: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 20)
    alias = V1.index_name()
    await odm_client.index(index=alias, id="neg", document={"name": "negative", "views": -1}, refresh=True)
    await apply(V2, transform=rename, accept_invalid=True, state_index=state_index)  # "neg" is not copied
    await V2(title="new", views=7, meta={"id": "n1"}).save(refresh=True)  # after the swap: in v2 only
    updated = await V2.get("p1", routing="r1")
    await updated.update(views=99, refresh=True)
    await V2.delete_by_id("p2", routing="r2", refresh=True)

    with pytest.raises(MigrationFailedError) as refused:  # V1 cannot read V2's documents as they are
        await rollback(V2, previous=V1, state_index=state_index)
    assert sorted(r.id for r in refused.value.result.invalid) == ["n1", "p1"]
    assert await behind(odm_client, alias) == [f"{alias}-v2"]  # no swap
    assert not await write_blocked(odm_client, f"{alias}-v2") and await write_blocked(odm_client, f"{alias}-v1")

    result = await rollback(V2, previous=V1, transform=rename_back, state_index=state_index)
    assert (result.outcome, result.source, result.target, result.copied) == (
        "rolled_back", f"{alias}-v2", f"{alias}-v1", 2
    )
    assert await behind(odm_client, alias) == [f"{alias}-v1"]
    assert await write_blocked(odm_client, f"{alias}-v2") and not await write_blocked(odm_client, f"{alias}-v1")
    back = await stored(odm_client, f"{alias}-v1")
    assert back["n1"] == {"name": "new", "views": 7} and back["p1"] == {"name": "post 1", "views": 99}
    assert "p2" not in back  # deleted after the swap: deleted back
    assert back["neg"] == {"name": "negative", "views": -1}  # never copied: not a delete, kept
    assert len(back) == 21
    with pytest.raises(MigrationStateError, match="no finished migration to roll back"):
        await rollback(V2, state_index=state_index)


async def test_rollback_without_the_old_model_copies_the_sources_as_they_are(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)
    await V2(title="new", views=7, meta={"id": "n1"}).save(refresh=True)
    result = await rollback(V2, state_index=state_index)
    assert result.outcome == "rolled_back"
    assert (await stored(odm_client, f"{alias}-v1"))["n1"] == {"title": "new", "views": 7}  # raw: V2's shape


async def test_a_delete_the_rollback_cannot_make_fails_it_and_the_alias_stays(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 10)
    alias = V1.index_name()
    current, earlier = f"{alias}-v2", f"{alias}-v1"
    await apply(V2, transform=rename, state_index=state_index)
    await V2(title="new", views=7, meta={"id": "n1"}).save(refresh=True)  # to copy back
    await V2.delete_by_id("p2", routing="r2", refresh=True)  # to delete back
    live_before = await stored(odm_client, current)

    def block_again(event: Progress) -> None:  # the copy back is done; the block comes back before the deletes
        if event.phase == "copy":
            block_writes_now(es_url, earlier)

    with pytest.raises(MigrationFailedError) as failed:
        await rollback(V2, previous=V1, transform=rename_back, on_progress=block_again, state_index=state_index)
    assert f"1 deletes from {earlier} of documents deleted since the swap failed ('p2')" in str(failed.value)
    assert f"the alias stays on {current}" in str(failed.value)
    [refused] = failed.value.result.invalid
    assert (refused.id, refused.routing) == ("p2", "r2") and "cluster_block_exception" in refused.reason
    assert await behind(odm_client, alias) == [current]  # no swap
    assert not await write_blocked(odm_client, current) and await write_blocked(odm_client, earlier)
    assert await stored(odm_client, current) == live_before  # nothing lost where users read and write
    assert "p2" in await stored(odm_client, earlier)

    result = await rollback(V2, previous=V1, transform=rename_back, state_index=state_index)  # the block is lifted by it
    assert result.outcome == "rolled_back" and await behind(odm_client, alias) == [earlier]
    back = await stored(odm_client, earlier)
    assert "p2" not in back and back["n1"] == {"name": "new", "views": 7} and len(back) == 10


async def test_a_raw_rollback_retries_bulk_items_answered_429(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)
    await V2(title="new", views=7, meta={"id": "n1"}).save(refresh=True)
    await V2.delete_by_id("p2", routing="r2", refresh=True)
    async with FaultProxy(es_url, faults=[RejectBulkItems(count=1, item_probability=1.0)]) as proxy:

        def reject_again(event: Progress) -> None:  # the delete bulk after the copy's bulk: rejected once too
            if event.phase == "copy":
                proxy.faults = [RejectBulkItems(count=1, item_probability=1.0)]

        client = AsyncElasticsearch(proxy.url, max_retries=0)
        try:
            result = await rollback(V2, client, on_progress=reject_again, state_index=state_index)
        finally:
            await client.close()
    assert proxy.stats.injected["bulk_item_429"] == 2
    assert result.outcome == "rolled_back" and result.copied == 1
    back = await stored(odm_client, f"{alias}-v1")
    assert back["n1"] == {"title": "new", "views": 7} and "p2" not in back and len(back) == 5


async def test_prune_keeps_the_live_index_and_the_newest_old_ones(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, V3 = classes
    await seed(V1, 5)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)
    await apply(V3, state_index=state_index)
    await odm_client.indices.create(index=f"{alias}-v9", aliases={alias + "-other": {}})  # another alias points to it
    await odm_client.indices.create(index=f"{alias}-v01")  # not a version odm makes
    await odm_client.indices.create(index=f"{alias}-vintage")

    first = await prune(V3, keep=1, state_index=state_index)
    assert first == PruneResult(alias, (f"{alias}-v1",), (
        (f"{alias}-v2", "one of the 1 newest old versions (keep=1)"),
        (f"{alias}-v3", "live (behind the alias)"),
        (f"{alias}-v9", "an alias points to it"),
    ))
    assert (await prune(V3, keep=1, state_index=state_index)).deleted == ()
    assert (await prune(V3, keep=0, state_index=state_index)).deleted == (f"{alias}-v2",)
    left = sorted((await odm_client.indices.get(index=alias + "-*")).body)
    assert left == [f"{alias}-v01", f"{alias}-v3", f"{alias}-v9", f"{alias}-vintage"]
    with pytest.raises(ValueError):
        await prune(V3, keep=-1, state_index=state_index)


async def test_prune_deletes_only_versions_odm_created_for_this_alias(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    """A hand-made <alias>-v7 holding data, or one odm made for another name, is kept and listed."""
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)  # v1 is now an old version odm made
    await odm_client.index(index=f"{alias}-v7", id="mine", document={"name": "hand-made"}, refresh=True)
    other = {"odm": {"definition_hash": "0" * 64, "document": "elsewhere:Thing", "name": f"{alias}-v8"}}
    await odm_client.indices.create(index=f"{alias}-v8", mappings={"_meta": other})  # a class named "<alias>-v8"

    result = await prune(V2, keep=0, state_index=state_index)
    assert result.deleted == (f"{alias}-v1",)
    assert dict(result.kept) == {
        f"{alias}-v2": "live (behind the alias)",
        f"{alias}-v7": "not created by odm (its mapping has no _meta.odm)",
        f"{alias}-v8": f"created by odm for '{alias}-v8', not for '{alias}'",
    }
    assert f"  kept {alias}-v7: not created by odm (its mapping has no _meta.odm)" in str(result).splitlines()
    assert (await odm_client.get(index=f"{alias}-v7", id="mine"))["_source"] == {"name": "hand-made"}
    assert await odm_client.indices.exists(index=f"{alias}-v8")


async def test_prune_deletes_the_target_a_failed_migration_left(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()
    await odm_client.index(index=alias, id="neg", document={"name": "negative", "views": -1}, refresh=True)
    with pytest.raises(MigrationFailedError):
        await apply(V2, transform=rename, state_index=state_index)
    assert (await prune(V2, keep=5, state_index=state_index)).deleted == (f"{alias}-v2",)
    assert await behind(odm_client, alias) == [f"{alias}-v1"]


async def test_resume_with_nothing_unfinished_is_a_no_op(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    assert (await resume(V2, state_index=state_index)).outcome == "nothing"


async def test_prune_refuses_a_class_that_is_not_versioned_or_whose_alias_is_missing(
    odm_client: AsyncElasticsearch, classes: Any, index_prefix: str, state_index: str
) -> None:
    """Nothing is live then, so no version is "old": prune must not delete indices holding data."""
    Plain = isolated(Unversioned, index_prefix)
    V1 = classes[0]
    for alias in (Plain.index_name(), V1.index_name()):
        for version in (1, 2):
            await odm_client.index(index=f"{alias}-v{version}", id="kept", document={"name": "kept"}, refresh=True)
    with pytest.raises(MigrationStateError, match="not versioned"):
        await prune(Plain, keep=0, state_index=state_index)
    with pytest.raises(MigrationStateError, match="no index is behind"):
        await prune(V1, keep=0, state_index=state_index)
    for alias in (Plain.index_name(), V1.index_name()):
        for version in (1, 2):
            assert (await odm_client.get(index=f"{alias}-v{version}", id="kept"))["_source"] == {"name": "kept"}


async def test_a_target_the_node_refuses_to_create_fails_the_migration_and_the_next_apply_starts_over(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()
    # A data stream template the new index's name matches: the node refuses to create it as an index.
    template = alias + "-stream"
    await odm_client.indices.put_index_template(
        name=template, index_patterns=[f"{alias}-v2"], priority=500, data_stream={}
    )
    try:
        with pytest.raises(MigrationFailedError, match=f"{alias}-v2 could not be created") as failed:
            await apply(V2, transform=rename, state_index=state_index)
        assert "creates data streams only" in str(failed.value)
    finally:
        await odm_client.indices.delete_index_template(name=template)
    assert not await write_blocked(odm_client, f"{alias}-v1") and await behind(odm_client, alias) == [f"{alias}-v1"]
    assert (await plan(V2, state_index=state_index)).action == "migrate"  # not "resume": nothing to finish
    assert (await apply(V2, transform=rename, state_index=state_index)).outcome == "migrated"
    assert len(await stored(odm_client, alias)) == 5


async def test_a_progress_callback_that_raises_at_the_block_lifts_the_block(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()

    def on_progress(event: Progress) -> None:
        if event.phase == "block":
            raise RuntimeError("the progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar"):
        await apply(V2, transform=rename, state_index=state_index, on_progress=on_progress)
    assert not await write_blocked(odm_client, f"{alias}-v1")
    assert await behind(odm_client, alias) == [f"{alias}-v1"]
    assert (await resume(V2, transform=rename, state_index=state_index)).outcome == "migrated"
    with pytest.raises(RuntimeError, match="progress bar"):  # a rollback's block, the same way
        await rollback(V2, state_index=state_index, on_progress=on_progress)
    assert not await write_blocked(odm_client, f"{alias}-v2")
    assert (await resume(V2, state_index=state_index)).outcome == "rolled_back"
    assert await behind(odm_client, alias) == [f"{alias}-v1"]


async def test_a_write_to_an_index_a_migration_blocked_raises_index_blocked_error(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    """save(), update(), delete() and the by-id writes name the block; bulk items carry its type."""
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    loaded = await V1.get("p0", routing="r0")
    await apply(V2, transform=rename, state_index=state_index)  # the old index keeps its write block
    loaded.views = 99
    calls = [
        loaded.save(),
        loaded.update(views=98),
        loaded.delete(),
        V1(name="new", meta={"id": "n1"}).save(index=f"{alias}-v1"),
        V1.update_by_id("p1", index=f"{alias}-v1", routing="r1", views=5),
        V1.delete_by_id("p1", index=f"{alias}-v1", routing="r1"),
    ]
    for call in calls:
        with pytest.raises(IndexBlockedError, match="write-blocked") as blocked:
            await call
        assert isinstance(blocked.value, AuthorizationException) and blocked.value.index == f"{alias}-v1"
        assert blocked.value.error == "cluster_block_exception" and blocked.value.__cause__ is not None
    result = await V1.bulk([V1(name="b", meta={"id": "b1"})], index=f"{alias}-v1")
    assert [failure.error.type for failure in result.failed] == ["cluster_block_exception"]
    assert (await stored(odm_client, f"{alias}-v1"))["p0"]["views"] == 0


async def test_a_rollback_transform_that_drops_documents_reports_them(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    """A document written since the swap that the transform maps to None is not copied back: said, never silent."""
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)
    await V2(title="new", views=7, meta={"id": "n1"}).save(refresh=True)
    await V2(title="skip", views=8, meta={"id": "n2"}).save(refresh=True)

    def back_but_skip(source: dict[str, Any]) -> dict[str, Any] | None:
        return None if source["title"] == "skip" else rename_back(source)

    result = await rollback(V2, previous=V1, transform=back_but_skip, state_index=state_index)
    assert (result.outcome, result.copied, result.dropped, result.dropped_count) == ("rolled_back", 1, ("n2",), 1)
    assert "1 dropped by the transform" in str(result)
    back = await stored(odm_client, f"{alias}-v1")
    assert back["n1"] == {"name": "new", "views": 7} and "n2" not in back


async def test_sizes_below_one_are_refused_before_anything_is_done(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    for page_size, concurrency in ((0, 2), (1000, 0), (1000, -2)):
        with pytest.raises(ArgumentError, match="must be an int of 1 or more"):
            await apply(V2, transform=rename, state_index=state_index, page_size=page_size, concurrency=concurrency)
        with pytest.raises(ArgumentError):
            await resume(V2, transform=rename, state_index=state_index, page_size=page_size, concurrency=concurrency)
    assert not await odm_client.indices.exists(index=f"{alias}-v2")
    assert not await odm_client.indices.exists(index=state_index)


async def test_the_summary_counts_the_copy_and_the_catch_up_apart(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str, es_url: str
) -> None:
    """Documents changed during the copy are written again by the catch-up: counted there, not in "copied"."""
    V1, V2, _ = classes
    await V1.init()
    await V1.bulk([V1(name=f"post {n}", views=n, meta={"id": f"p{n}"}) for n in range(60)], refresh=True)
    alias = V1.index_name()
    events: list[Progress] = []

    def on_progress(event: Progress) -> None:
        if event.phase == "copy" and not any(e.phase == "copy" for e in events):  # after the first page
            for id, views in (("p1", 101), ("p59", 159), ("new", 7)):  # one copied already, one not yet, one new
                write_now(es_url, f"{alias}-v1", id, {"name": f"changed {id}", "views": views})
        events.append(event)

    result = await apply(V2, transform=rename, page_size=20, on_progress=on_progress, state_index=state_index)
    assert (result.total, result.copied, result.caught_up) == (60, 60, 3)  # the copy read the point in time: 60
    assert str(result).startswith(f"{alias}: migrated {alias}-v1 -> {alias}-v2: 60 copied of 60, 3 caught up, ")
    assert [e.copied for e in events if e.phase == "copy"] == [20, 40, 60]
    assert [e.caught_up for e in events if e.phase == "catch_up"] == [3]
    copied = await stored(odm_client, f"{alias}-v2")
    assert len(copied) == 61 and copied["p59"] == {"title": "changed p59", "views": 159}


def write_now(es_url: str, index: str, id: str, document: dict[str, Any]) -> None:
    """Index a document from outside the event loop (another writer) before returning."""
    request = urllib.request.Request(
        f"{es_url}/{index}/_doc/{id}", data=json.dumps(document).encode(), method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status in (200, 201)


async def test_a_resumed_migration_refuses_a_target_it_did_not_create(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    """A hand-made <alias>-v2 appears between the version choice and the create: nothing is copied into it."""
    V1, V2, _ = classes
    await seed(V1, 5)
    alias = V1.index_name()
    source, target = f"{alias}-v1", f"{alias}-v2"
    await odm_client.index(index=target, id="theirs", document={"mine": "not odm's"}, refresh=True)
    before = (await odm_client.indices.get(index=target)).body
    store = StateStore(odm_client, state_index, alias)
    await store.ensure_index()
    for phase in ("created", "copying"):  # the state an apply killed after choosing v2 leaves
        await odm_client.options(ignore_status=404).delete(index=state_index, id=alias, refresh=True)
        state = MigrationState(alias, phase, source, target, "m:PostV2", "dead:1:x", transform=_named(rename))
        if phase == "copying":
            state.checkpoint = {"pit": "gone", "after": None}
        await StateStore(odm_client, state_index, alias).write(state)

        with pytest.raises(MigrationStateError, match=f"{target} was not created by this migration") as refused:
            await resume(V2, transform=rename, state_index=state_index)
        assert refused.value.alias == alias and "nothing was written to it" in str(refused.value)
        assert (await odm_client.indices.get(index=target)).body == before  # mapping, settings, no alias: untouched
        assert await stored(odm_client, target) == {"theirs": {"mine": "not odm's"}}
        assert await behind(odm_client, alias) == [source] and not await write_blocked(odm_client, source)
        assert (await plan(V2, state_index=state_index)).action == "migrate"  # failed, naming no target

    result = await apply(V2, transform=rename, state_index=state_index)  # a new one goes past it, and leaves it be
    assert (result.outcome, result.target) == ("migrated", f"{alias}-v3")
    assert (await prune(V2, keep=0, state_index=state_index)).deleted == (source,)
    assert await stored(odm_client, target) == {"theirs": {"mine": "not odm's"}}


def _named(function: Any) -> str:
    return f"{function.__module__}:{function.__qualname__}"


async def test_plan_says_apply_refuses_a_first_version_without_its_alias(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1 = classes[0]
    alias = V1.index_name()
    await odm_client.indices.create(
        index=f"{alias}-v1", settings=SETTINGS, mappings={"properties": {"name": {"type": "keyword"}}}
    )
    await odm_client.index(index=f"{alias}-v1", id="x", document={"name": "hand-made"}, refresh=True)
    planned = await plan(V1, state_index=state_index)
    assert (planned.action, planned.target) == ("refuse", f"{alias}-v1")
    assert str(planned).startswith(
        f"{alias}: apply would refuse: {alias}-v1 exists but the alias {alias} does not point to it, and odm does not "
        f"take over an index it did not create (init() raises VersionedIndexError). Delete {alias}-v1, or add the "
        "alias to it (is_write_index: true), then apply again"
    )
    with pytest.raises(VersionedIndexError, match="does not take over an index it did not create"):
        await apply(V1, state_index=state_index)  # what plan said
    await odm_client.indices.update_aliases(actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}])
    assert (await plan(V1, state_index=state_index)).action == "init"  # the way out works
    assert (await apply(V1, state_index=state_index)).outcome == "initialized"
    assert (await odm_client.get(index=alias, id="x"))["_source"] == {"name": "hand-made"}


async def test_a_rollback_resumed_after_the_alias_was_moved_by_hand_stops_and_leaves_nothing_blocked(
    odm_client: AsyncElasticsearch, classes: Any, state_index: str
) -> None:
    V1, V2, _ = classes
    await seed(V1, 3)
    alias = V1.index_name()
    await apply(V2, transform=rename, state_index=state_index)

    def on_progress(event: Progress) -> None:
        if event.phase == "block":
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):  # the rollback stops at "rolling_back"
        await rollback(V2, state_index=state_index, on_progress=on_progress)
    elsewhere = f"{alias}-by-hand"
    await odm_client.indices.create(index=elsewhere)
    await odm_client.indices.update_aliases(actions=[
        {"remove": {"index": f"{alias}-v2", "alias": alias}},
        {"add": {"index": elsewhere, "alias": alias, "is_write_index": True}},
    ])
    with pytest.raises(MigrationStateError, match="not to"):
        await resume(V2, state_index=state_index)
    assert not await write_blocked(odm_client, f"{alias}-v2")  # the index it blocked is writable again
    assert await behind(odm_client, alias) == [elsewhere]  # the hand-made move stands
    assert len(await stored(odm_client, f"{alias}-v2")) == 3  # nothing deleted
