"""The copy step of a server-side migration: ``_reindex`` through the owner's fence, then a validation pass.

A resumed copy first settles the tasks of older owners (:func:`_settle`): a task still
running is cancelled and waited for (a takeover removed its fence, so its next batch is
refused anyway; the wait makes sure it writes nothing more), and a recorded task that
completed without a problem is used as it is. Anything else starts the copy again under
this owner: new marks, its fence on the target, its own task.
"""

from __future__ import annotations

import time

from elasticsearch import ApiError

from ..errors import MigrationError
from ._copy import PIT_KEEP_ALIVE, pit_pages
from ._run import Run
from ._server_copy import ReindexTask, cancel_task, poll_reindex, reindex_task, running_reindex_into, start_reindex
from ._state import MigrationState

__all__ = ["server_copy", "validate_target"]


async def server_copy(run: Run, state: MigrationState) -> None:
    """``_reindex`` as a task (marks, a refresh, this owner's fence on the target, then the task), polled
    until done, its answer checked; then every document of the target read through the model."""
    assert state.from_index is not None and state.to_index is not None
    client, source, target = run.client, state.from_index, state.to_index
    run.copy_started = time.monotonic()

    def on_poll(polled: ReindexTask) -> None:
        run.lease.check()
        run.copied = state.copied = polled.written
        run.progress("copy", state)

    task = await _settle(run, state) if state.phase == "copying" else None
    if task is None:
        await run.take_marks(state)
        state.total = int((await client.count(index=source))["count"])
        state.copied, state.checkpoint = 0, {"task": None}
        await run.save(state, "copying")  # the marks, before the task that reads after them
        fence = await run.fence.take(target)  # the task writes only through it
        try:
            task_id = await start_reindex(client, source, fence, run.options.page_size)
        except ApiError as error:
            if error.meta.status >= 500:
                raise
            await run.fail(state, f"the server refused _reindex from {source} to {target}: {error}")
        state.checkpoint = {"task": task_id}
        await run.save(state)
        task = await poll_reindex(client, task_id, on_poll)
        if task is None:
            raise MigrationError(
                run.alias, f"the cluster lost the _reindex task {task_id} (its node left?): run resume to copy again"
            )
        if task.problems and not await run.fence.exists():  # refused through the fence, or cancelled by
            raise run.fence.lost("its _reindex task was stopped by the takeover")  # the new owner: not a failure
    if task.problems:
        await run.fail(state, f"the server's _reindex from {source} to {target} failed: {'; '.join(task.problems)}")
    run.copied = state.copied = task.written
    run.progress("copy", state)
    await validate_target(run, state)


async def _settle(run: Run, state: MigrationState) -> ReindexTask | None:
    """At a resumed copy: cancel every running task of an older owner and wait until each completed.

    Returns:
        The task recorded in the state, if it completed without a problem and nothing had
        to be cancelled (its copy is whole); ``None``: the copy starts again.

    Raises:
        MigrationLockedError: a task writes through a newer owner's fence (this process lost the lock).
    """
    assert state.from_index is not None and state.to_index is not None
    client = run.client
    running = await running_reindex_into(client, state.from_index, run.alias, state.to_index)
    newer = sorted(task_id for task_id, generation in running.items() if generation > run.fence.generation)
    if newer:
        raise run.fence.lost(f"the _reindex task {newer[0]} writes through a newer owner's fence")
    recorded = (state.checkpoint or {}).get("task")
    task = await reindex_task(client, str(recorded)) if recorded else None
    stopping = sorted(set(running) | ({str(recorded)} if task is not None and not task.completed else set()))
    for task_id in stopping:
        await cancel_task(client, task_id)
    for task_id in stopping:  # until each wrote its last batch (the cluster may also have lost it: None)
        await poll_reindex(client, task_id, lambda _: run.lease.check())
    if stopping or task is None or task.problems:
        return None
    return task


async def validate_target(run: Run, state: MigrationState) -> None:
    """Read every document of the target through the model, writing nothing: ``_reindex`` copied each
    ``_source`` as it was. The ones the model refuses are rejected as the client copy rejects them;
    with ``accept_invalid`` they are deleted from the target (the client copy never writes them)."""
    assert state.to_index is not None
    client, target = run.client, state.to_index
    copier = run.copier(run.document, target)
    run.invalid, run.dropped = {}, set()
    await client.indices.refresh(index=target)
    pit = (await client.open_point_in_time(index=target, keep_alive=PIT_KEEP_ALIVE))["id"]
    try:
        async for hits, _, pit in pit_pages(client, pit, None, run.options.page_size, PIT_KEEP_ALIVE):
            run.lease.check()
            run.invalid.update(copier.prepare(hits)[1].invalid)
            run.progress("validate", state)
    finally:
        await client.options(ignore_status=404).close_point_in_time(id=pit)
    if run.invalid and run.options.accept_invalid:
        await run.delete(copier, set(run.invalid))
        state.copied -= len(run.invalid)
