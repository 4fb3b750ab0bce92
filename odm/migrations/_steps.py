"""The steps of a migration, for apply and resume: create, copy, block and catch up, verify, swap.

Each step saves the state before the next begins, so ``resume`` continues from the
step a killed process was in (``docs/migrations.md`` lists what each one does).
"""

from __future__ import annotations

import random
import time
from typing import Any

from elasticsearch import ApiError, AuthorizationException, NotFoundError

from .._core.document_options import options_of
from .._core.vectors import stored_as_sent
from ..errors import MigrationError, MigrationFailedError, MigrationLockedError, MigrationStateError
from ..schema._drift import live_odm_meta
from ..schema._versioned import Drift, definition_body, detect_drift, indices_behind, versioned_name
from ..search._mget import send_mget
from ._copy import PIT_KEEP_ALIVE, SOURCE_WITH_VECTORS, Copier, changed_pages, keys_of, pit_pages, primary_seq_nos
from ..schema._fence import is_fence
from ._rollback import rollback_from
from ._run import UNFINISHED, MigrationResult, Run, versions
from ._server_copy import missing_reindex_module
from ._server_step import server_copy
from ._state import Key, MigrationState

__all__ = ["apply", "resume"]

_SAMPLE = 100  # documents whose copy is compared with its source, at random, by verify
_SETTINGS_KEPT_FOR_COPY = ("number_of_replicas", "refresh_interval")


def _name_of(function: Any) -> str | None:
    return None if function is None else f"{function.__module__}:{function.__qualname__}"


async def apply(run: Run) -> MigrationResult:
    """Nothing, ``init()``, or a migration from its start (under the lock)."""
    state = await run.store.read()
    if state is not None and state.phase in UNFINISHED:
        raise MigrationStateError(
            run.alias, f"a migration to {state.to_index} stopped at phase {state.phase!r}; run resume to finish it"
        )
    drift = await detect_drift(run.document, run.client)
    if drift.outcome == "none":
        return run.result("nothing")
    if drift.outcome in ("missing", "in_place"):
        await run.document.init(using=run.client)
        return MigrationResult(run.alias, "initialized", target=drift.index or run.alias)
    source = _source_of(run, drift)
    if run.options.server_side:
        lacking = await missing_reindex_module(run.client)
        if lacking:
            raise MigrationError(
                run.alias, f"server_side=True needs Elasticsearch's module reindex, which {', '.join(lacking)} "
                "lacks; nothing was done (without server_side the copy runs through the client)",
            )
    if state is not None and state.phase == "failed" and state.to_index:
        await _delete_leftover(run, state)
    target = versioned_name(run.alias, max((v for _, v, _ in await versions(run.client, run.alias)), default=0) + 1)
    state = MigrationState(
        run.alias, "created", source, target, f"{run.document.__module__}:{run.document.__qualname__}",
        run.lease.owner, transform=_name_of(run.options.transform), accept_invalid=run.options.accept_invalid,
        server_side=run.options.server_side,
    )
    await run.store.write(state)
    return await _run_from(run, state)


async def resume(run: Run) -> MigrationResult:
    """Finish an unfinished migration or rollback from its phase; nothing when none is unfinished."""
    state = await run.store.read()
    if state is None or state.phase not in UNFINISHED:
        return run.result("nothing")
    await run.store.write(state)  # from here on, a state write of an owner that lost the lock conflicts
    if state.phase == "rolling_back":
        return await rollback_from(run, state, None)
    wanted = _name_of(run.options.transform)
    if wanted != state.transform:
        raise MigrationStateError(
            run.alias, f"the interrupted migration ran with transform {state.transform}, this resume with {wanted}"
        )
    run.options.accept_invalid, run.options.server_side = state.accept_invalid, state.server_side
    run.invalid, run.dropped = state.rejects()
    if state.phase != "created":  # a created target is checked when it is created (or found)
        await _check_owned(run, state)
    return await _run_from(run, state)


def _source_of(run: Run, drift: Drift) -> str:
    versioned = options_of(run.document).versioned
    if not versioned or drift.index in (None, drift.alias):
        first = "run" if versioned else "set Index.versioned = True in the class and run"
        raise MigrationStateError(
            run.alias,
            f"{drift.index} is a concrete index, not behind a versioned alias: {first} `odm adopt` "
            "(odm.schema.adopt) first",
        )
    assert drift.index is not None
    return drift.index


async def _run_from(run: Run, state: MigrationState) -> MigrationResult:
    """Run the steps of ``state.phase`` and the ones after it."""
    if state.phase in ("created", "copying"):
        await _copy(run, state)
    if state.phase == "catching_up":
        await _catch_up(run, state)
    if state.phase == "swapping":
        await _swap(run, state)
    run.progress("done", state)
    return run.result("migrated", state)


async def _copy(run: Run, state: MigrationState) -> None:
    """Create the target (if not yet), then copy every document of the source: through the model, or
    with the server's ``_reindex`` followed by a validation pass through the model."""
    if state.phase == "created":
        await _create_target(run, state)
        run.progress("create", state)
    if state.server_side:
        await server_copy(run, state)
    else:
        await _client_copy(run, state)
    if run.invalid and not run.options.accept_invalid:
        await run.fail(state, f"{len(run.invalid)} documents were rejected by {run.document.__name__}")
    await run.save(state, "catching_up")


async def _client_copy(run: Run, state: MigrationState) -> None:
    """Copy every document of the source through the model, from the checkpoint while its point in time is open."""
    assert state.from_index is not None and state.to_index is not None
    client, source, target = run.client, state.from_index, state.to_index
    checkpoint = state.checkpoint if state.phase == "copying" and not state.ids_truncated else None
    if checkpoint is None or "pit" not in checkpoint or not await _pit_alive(run, checkpoint["pit"]):
        await run.take_marks(state)
        pit = (await client.open_point_in_time(index=source, keep_alive=PIT_KEEP_ALIVE))["id"]
        state.total = int((await client.count(index=source))["count"])
        state.copied, checkpoint = 0, {"pit": pit, "after": None}
        state.checkpoint = checkpoint
        await run.save(state, "copying")
    copier = run.copier(run.document, target)
    pit = checkpoint["pit"]
    run.copy_started = time.monotonic()
    async for hits, after, pit in pit_pages(client, pit, checkpoint["after"], run.options.page_size, PIT_KEEP_ALIVE):
        run.lease.check()
        page = await copier.copy(hits)
        run.merge(page)
        state.copied += len(page.copied)
        state.checkpoint = {"pit": pit, "after": after}
        await run.save(state)
        run.progress("copy", state)
    await client.options(ignore_status=404).close_point_in_time(id=pit)


async def _catch_up(run: Run, state: MigrationState) -> None:
    """Block writes on the source, copy what changed since the marks, delete what was deleted, verify."""
    assert state.from_index is not None and state.to_index is not None
    client, source, target = run.client, state.from_index, state.to_index
    try:  # from the block on, any failure (an interrupt, a progress callback raising) lifts it
        await run.block(source)  # waits for writes in flight; through the fence
        run.progress("block", state)
        await client.indices.refresh(index=source)
        copier = run.copier(run.document, target)
        state.caught_up = 0  # a resumed catch-up runs again from the same marks
        async for hits in changed_pages(client, source, state.marks, run.options.page_size):
            run.lease.check()
            page = await copier.copy(hits)
            run.merge(page)
            state.caught_up += len(page.copied)
            await run.delete(copier, list(page.invalid) + list(page.dropped))  # an earlier copy of them
        await client.indices.refresh(index=target)
        missing, expected = await _deletes(run, state, copier)
        run.progress("catch_up", state)
        if run.invalid and not run.options.accept_invalid:
            await run.fail(state, f"{len(run.invalid)} documents were rejected by {run.document.__name__}")
        await _verify(run, state, copier, missing, expected)
        state.swap_marks = await primary_seq_nos(client, target, "max_seq_no")
        await run.save(state, "swapping")
        run.progress("verify", state)
    except MigrationLockedError:
        raise  # another process owns the migration now: its block is not ours to lift
    except BaseException as error:
        await run.unblock(source)
        if not isinstance(error, MigrationFailedError):  # failed is final; the rest can be resumed
            state.error = f"{type(error).__name__}: {error}"
            await run.save_quietly(state)
        raise


async def _deletes(run: Run, state: MigrationState, copier: Copier[Any]) -> tuple[set[Key], int]:
    """Delete from the target what is no longer in the (blocked) source, unless the counts prove there is nothing.

    Returns:
        The source's documents missing from the target (they fail the verification), and
        how many documents the target must hold.
    """
    assert state.from_index is not None and state.to_index is not None
    client, source, target = run.client, state.from_index, state.to_index
    source_count = int((await client.count(index=source))["count"])
    if not run.invalid and not run.dropped and source_count == int((await client.count(index=target))["count"]):
        # The id pass can be skipped when the counts prove it would find nothing. After the
        # catch-up the target holds every document the source holds: each was either in
        # the point in time (its last write had a seq_no at or below its shard's mark) or
        # has a seq_no above the mark and was copied by the catch-up, and none was rejected
        # or dropped (those would be in run.invalid / run.dropped), under the same id and
        # routing. So target ⊇ source, and equal exact counts (both refreshed, the source
        # blocked) make them equal. One more condition: two source documents may share an
        # id under different custom routings (in different shards); if the target routes
        # otherwise (another shard count), both may land in one shard, one overwriting the
        # other, and an extra document deleted from the source could hide that in the
        # count. Without custom routing ids are unique; with the same routing function each
        # document lands in the same shard number as in the source, so none collide.
        routed = await client.count(index=source, query={"exists": {"field": "_routing"}})
        if not routed["count"] or await _same_routing(run, source, target):
            return set(), source_count
    run.progress("id_pass", state)
    source_keys, target_keys = await keys_of(client, source), await keys_of(client, target)
    run.invalid = {key: reason for key, reason in run.invalid.items() if key in source_keys}
    run.dropped &= source_keys
    keep = source_keys - run.invalid.keys() - run.dropped
    await run.delete(copier, target_keys - keep)
    return keep - target_keys, len(keep)


async def _same_routing(run: Run, source: str, target: str) -> bool:
    """Whether an id and routing pick the same shard number in both indices (same routing function)."""
    fields = ("routing_num_shards", "settings.index.number_of_shards", "settings.index.routing_partition_size")
    try:
        answer = await run.client.cluster.state(
            metric="metadata", index=[source, target], filter_path=[f"metadata.indices.*.{field}" for field in fields]
        )
    except AuthorizationException:  # no cluster monitor privilege: not proven, so the id pass runs
        return False
    indices = answer["metadata"]["indices"]

    def shape(name: str) -> tuple[Any, ...]:
        index = indices[name].get("settings", {}).get("index", {})
        return indices[name].get("routing_num_shards"), index.get("number_of_shards"), index.get("routing_partition_size")

    return shape(source) == shape(target)


async def _verify(run: Run, state: MigrationState, copier: Copier[Any], missing: set[Key], expected: int) -> None:
    """The target holds exactly the source's documents (less the rejected and dropped), as copied."""
    assert state.from_index is not None and state.to_index is not None
    client, source, target = run.client, state.from_index, state.to_index
    if missing:
        ids = ", ".join(sorted(id for id, _ in missing)[:10])
        await run.fail(state, f"{len(missing)} documents of {source} are missing from {target}: {ids}")
    await client.indices.refresh(index=target)
    count = int((await client.count(index=target))["count"])
    if count != expected:
        await run.fail(state, f"{target} holds {count} documents, {expected} were expected")
    # A random sample of the source (rejected and dropped ones included: their copy must be absent).
    sample = await client.search(
        index=source, size=_SAMPLE, track_total_hits=False, source=SOURCE_WITH_VECTORS,
        query={"function_score": {"random_score": {"seed": random.randrange(2**31), "field": "_seq_no"}}},
    )
    hits = sample["hits"]["hits"]
    if not hits:
        return
    docs = [{"_id": hit["_id"], **({"routing": hit["_routing"]} if "_routing" in hit else {})} for hit in hits]
    new = (await send_mget(client, index=target, docs=docs, vectors=True))["docs"]
    for before, after in zip(hits, new):
        wanted, copy = copier.expected_source(before), after.get("_source")
        # _reindex copies the source as it is; the catch-up writes through the model: either is right.
        # Vectors compare as Elasticsearch stores them (a cosine one comes back a float32 step off).
        as_copied = (wanted is None and copy is None) or (
            copy is not None and wanted is not None and (
                stored_as_sent(wanted, copy, copier.document)
                or (state.server_side and stored_as_sent(before["_source"], copy, copier.document))
            )
        )
        if not as_copied:
            await run.fail(state, f"the copy of document {before['_id']!r} in {target} differs from its source")


async def _swap(run: Run, state: MigrationState) -> None:
    """Set the target's settings back (through the fence), then move every alias of the source to it in one call."""
    assert state.from_index is not None and state.to_index is not None
    source, target = state.from_index, state.to_index
    behind = await indices_behind(run.alias, run.client)
    if behind not in ([source], [target]):
        raise MigrationStateError(run.alias, f"the alias points to {behind}, not to {source} or {target}")
    # Through the fence (so before it goes with the swap, or again when the aliases moved already):
    # a process that lost the lock cannot change the live index's settings.
    wanted = {key: state.wanted_settings.get(key) for key in _SETTINGS_KEPT_FOR_COPY}
    await run.fence.put_settings(target, {"index": wanted})
    if behind == [source]:
        run.lease.check()
        await run.move_aliases(source, target)
    run.progress("swap", state)
    state.checkpoint = None
    await run.save(state, "done")


async def _create_target(run: Run, state: MigrationState) -> None:
    """Create the target from the class's definition, with no replicas and no refresh during the copy.

    Its ``_meta.odm.migration`` records this migration's id; an index of that name that
    exists already is used only if it carries the id (created by this migration before a
    resume), else the migration is refused (:func:`_check_owned`).
    """
    assert state.to_index is not None
    target = state.to_index
    body = definition_body(run.document, state.migration)  # no aliases: they move at the swap
    settings: dict[str, Any] = dict(body.get("settings", {}))
    wanted: dict[str, Any] = {}
    nested = settings.pop("index", None)
    settings.update({f"index.{key}": value for key, value in (nested or {}).items()})
    for key in _SETTINGS_KEPT_FOR_COPY:
        for spelled in (key, f"index.{key}"):
            if spelled in settings:
                wanted[key] = settings.pop(spelled)
    state.wanted_settings = wanted
    settings.update(number_of_replicas=0, refresh_interval="-1")
    if await run.client.indices.exists(index=target):
        await _check_owned(run, state)
    else:
        try:
            await run.client.indices.create(index=target, settings=settings, mappings=body.get("mappings", {}))
        except ApiError as error:  # the definition (or a template it matches) is refused: nothing to resume
            if error.error == "resource_already_exists_exception":  # made by another meanwhile, or by us
                await _check_owned(run, state)
            elif error.meta.status >= 500:
                raise
            else:
                await run.fail(state, f"{target} could not be created: {error}", created=False)
    await run.save(state, "created")


async def _migration_of(run: Run, index: str) -> str | None:
    """The migration id in ``index``'s ``_meta.odm`` (``None``: none, or no such index)."""
    answer = await run.client.options(ignore_status=404).indices.get_mapping(index=index)
    if answer.meta.status == 404:
        return None
    meta = live_odm_meta(answer.body.get(index, {}).get("mappings", {}))
    found = meta.get("migration") if meta is not None else None
    return str(found) if found is not None else None


async def _check_owned(run: Run, state: MigrationState) -> None:
    """Refuse a target this migration did not create: nothing is written to it.

    The migration is marked failed, naming no target (the next ``apply`` or ``prune``
    leaves that index alone) and the source's write block, if any, is lifted, unless the
    aliases moved already (then nothing is changed).

    Raises:
        MigrationStateError: ``state.to_index`` does not carry this migration's id.
    """
    assert state.to_index is not None and state.from_index is not None
    target = state.to_index
    found = await _migration_of(run, target)
    if found == state.migration:
        return
    exists = await run.client.indices.exists(index=target)
    why = (
        f"{target} does not exist any more" if not exists
        else f"{target} was not created by this migration (its _meta.odm.migration is {found!r}, "
        f"this migration's is {state.migration!r}): odm copies only into a target it created; nothing was written to it"
    )
    if await indices_behind(run.alias, run.client) == [state.from_index]:
        await run.unblock(state.from_index)
        state.to_index, state.error = None, why
        await run.save(state, "failed")
        why += f"; the migration is marked failed and the alias stays on {state.from_index}: apply starts a new one"
    raise MigrationStateError(run.alias, why)


async def _pit_alive(run: Run, pit: str) -> bool:
    try:
        await run.client.search(pit={"id": pit}, size=0, track_total_hits=False)
    except NotFoundError:
        return False
    return True


async def _delete_leftover(run: Run, state: MigrationState) -> None:
    """Delete the target a failed migration left for inspection, if that migration created it and no alias
    points to it."""
    assert state.to_index is not None
    index = state.to_index
    if await _migration_of(run, index) != state.migration:
        return
    answer = await run.client.options(ignore_status=404).indices.get_alias(index=index)
    aliases = answer.body.get(index, {}).get("aliases", {}) if answer.meta.status == 200 else None
    if aliases is not None and all(is_fence(name, run.alias) for name in aliases):  # a dead owner's fence goes with it
        await run.client.indices.delete(index=index)
