"""The rollback of a finished migration: the alias back to the index it copied from, keeping later writes.

The current index is write-blocked; the documents written there since the swap are
copied back (through the old model when given, raw otherwise), the ones deleted there
are deleted back, and only when every write and delete succeeded do the aliases move.
"""

from __future__ import annotations

import time

from ..document import AsyncDocument
from ..errors import MigrationFailedError, MigrationLockedError, MigrationStateError
from ..schema._versioned import indices_behind
from ._copy import RawSource, changed_pages, keys_of
from ._run import MigrationResult, Run
from ._state import Key, MigrationState, Rejected

__all__ = ["rollback", "rollback_from"]


async def rollback(run: Run, previous: type[AsyncDocument] | None) -> MigrationResult:
    """Roll the last finished migration back (under the lock)."""
    state = await run.store.read()
    if state is None or state.phase not in ("done", "rolling_back") or not state.to_index or not state.from_index:
        phase = state.phase if state is not None else "none"
        raise MigrationStateError(run.alias, f"no finished migration to roll back (last phase: {phase})")
    if state.phase == "done":
        behind = await indices_behind(run.alias, run.client)
        if behind != [state.to_index]:
            raise MigrationStateError(run.alias, f"the alias points to {behind}, not to {state.to_index}")
        if state.ids_truncated:
            raise MigrationStateError(
                run.alias, "the migration rejected or dropped more documents than the state keeps; "
                "deletes made since the swap cannot be told from them",
            )
        state.phase = "rolling_back"
    # store.write, not save(): the migration's rejects stay recorded. Resumed, it also makes
    # any later state write of an owner that lost the lock conflict.
    await run.store.write(state)
    return await rollback_from(run, state, previous)


async def rollback_from(run: Run, state: MigrationState, previous: type[AsyncDocument] | None) -> MigrationResult:
    """Copy back what changed in the target since the swap, then move the aliases back."""
    assert state.from_index is not None and state.to_index is not None
    current, earlier = state.to_index, state.from_index
    run.invalid, run.dropped = {}, set()
    excluded = set(state.rejects()[0]) | state.rejects()[1]
    try:  # from the block on, any failure (an interrupt, a progress callback raising) lifts it
        await run.block(current)
        run.progress("block")
        await run.client.indices.refresh(index=current)
        behind = await indices_behind(run.alias, run.client)
        if behind == [current]:
            await _copy_back(run, state, previous, excluded)
            run.lease.check()
            await run.move_aliases(current, earlier)
        elif behind != [earlier]:  # moved by hand since: neither index is the rollback's to finish
            raise MigrationStateError(
                run.alias, f"the alias points to {behind}, not to {current} or {earlier}: the rollback stops, "
                f"{current} is writable again"
            )
        run.progress("swap")
    except MigrationLockedError:
        raise
    except BaseException as error:
        await run.unblock(current)
        if isinstance(error, MigrationFailedError):  # refused: the migration stands, as it was
            state.phase, state.error = "done", str(error)
            await run.save_quietly(state)
        raise
    state.phase = "rolled_back"
    await run.store.write(state)
    run.progress("done")
    dropped = tuple(sorted(id for id, _ in run.dropped))  # the transform mapped them to None: not copied back
    return MigrationResult(
        run.alias, "rolled_back", current, earlier, copied=run.copied, dropped=dropped, dropped_count=len(dropped),
        seconds=time.monotonic() - run.started,
    )


async def _copy_back(
    run: Run, state: MigrationState, previous: type[AsyncDocument] | None, excluded: set[Key]
) -> None:
    """Write the changed documents and the deletes into the earlier index; any failure raises before the swap.

    Without ``previous`` the documents go through :class:`~odm.migrations._copy.RawSource`, which
    declares no field: their ``_source`` is written as it was (after the transform), by the
    same bulk path (and retries) as a copy through a model.
    """
    assert state.from_index is not None and state.to_index is not None
    client, current, earlier = run.client, state.to_index, state.from_index
    copier = run.copier(previous if previous is not None else RawSource, earlier)
    # Check every changed document first: nothing is written if one is refused.
    async for hits in changed_pages(client, current, state.swap_marks, run.options.page_size):
        run.merge(copier.prepare(hits)[1])
    _refuse(run, state, "documents changed since the swap are refused by " + (
        "the previous model" if previous is not None else f"index {earlier}"
    ))
    current_keys, earlier_keys = await keys_of(client, current), await keys_of(client, earlier)
    deleted = earlier_keys - current_keys - excluded
    await run.unblock(earlier)
    try:
        async for hits in changed_pages(client, current, state.swap_marks, run.options.page_size):
            run.lease.check()
            run.merge(await copier.copy(hits))
            run.progress("copy")
        _refuse(run, state, f"documents changed since the swap are refused by index {earlier}")
        run.invalid = await copier.delete(sorted(deleted, key=lambda key: (key[0], key[1] or "")))
        _refuse(run, state, f"deletes from {earlier} of documents deleted since the swap failed")
        await client.indices.refresh(index=earlier)
    except MigrationLockedError:
        raise
    except BaseException:
        await run.block(earlier)
        raise


def _refuse(run: Run, state: MigrationState, what: str) -> None:
    """Raise :class:`MigrationFailedError` for ``run.invalid``, if any (``what`` says what they are): the alias stays."""
    if run.invalid:
        rejected = tuple(Rejected(id, reason, routing) for (id, routing), reason in sorted(run.invalid.items()))
        result = MigrationResult(
            run.alias, "nothing", state.to_index, state.to_index, copied=run.copied,
            invalid=rejected, invalid_count=len(rejected),
        )
        ids = ", ".join(repr(entry.id) for entry in rejected[:10])
        raise MigrationFailedError(
            run.alias, f"{len(rejected)} {what} ({ids}); the alias stays on {state.to_index}", result,
        )
