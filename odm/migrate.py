"""Migrations of a versioned document class to a new index, through its model: plan, apply, resume, rollback, prune.

``apply`` creates ``<alias>-v<N+1>`` from the class's definition, copies every document
through the model (an optional transform first) while the old index stays writable,
blocks writes on the old index for a short final pass that copies what changed
meanwhile (by sequence number) and deletes what was deleted, verifies counts and a
sample, and moves the aliases in one atomic call. State and lock live in Elasticsearch
(:mod:`odm._migration_state`), so an interrupted migration is resumed from any host.
This module is the public face; the steps are in :mod:`odm._migration_steps` and
:mod:`odm._rollback`, the frame they share in :mod:`odm._migration_run`.
``docs/migrations.md`` walks through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from . import _migration_steps, _rollback
from ._copy import Transform
from ._document_options import options_of
from ._migration_run import UNFINISHED, MigrationResult, Options, Progress, Run, versions
from ._migration_state import STATE_INDEX, Rejected, StateStore
from .connections import UsingType, get_client
from .document import AsyncDocument
from .errors import ArgumentError, MigrationStateError
from .schema import Drift, detect_drift, indices_behind, version_of, versioned_name

__all__ = ["MigrationResult", "Plan", "Progress", "Rejected", "apply", "plan", "prune", "resume", "rollback"]


@dataclass(frozen=True)
class Plan:
    """What :func:`apply` would do, found without writing anything.

    Attributes:
        drift: the class against its live index, change by change.
        action: ``nothing``; ``init`` (create the index, or apply in-place changes);
            ``migrate`` (copy to ``target``); ``adopt`` (a concrete index or a class not
            ``versioned``: run ``adopt()`` first); ``resume`` (an interrupted migration).
        source: the index read from (the live one).
        target: the index a migration would create.
        unfinished: the phase of an interrupted migration, if any.
    """

    drift: Drift
    action: Literal["nothing", "init", "migrate", "adopt", "resume"]
    source: str | None
    target: str | None
    unfinished: str | None = None

    def __str__(self) -> str:
        drift = self.drift
        head = {
            "nothing": f"{drift.alias}: nothing to do ({drift.index} matches {drift.document.__name__})",
            "init": f"{drift.alias}: init() creates or updates it in place"
            + (f" ({drift.index})" if drift.index else " (no index yet)"),
            "migrate": f"{drift.alias}: migrate from {self.source} to {self.target}, through {drift.document.__name__}",
            "adopt": f"{drift.alias}: needs a new index, but {drift.index} is not behind a versioned alias: "
            + ("run adopt first" if options_of(drift.document).versioned else "set Index.versioned = True and run adopt first"),
            "resume": f"{drift.alias}: a migration to {self.target} stopped at phase {self.unfinished!r}: run resume",
        }[self.action]
        lines = [head] + [f"  {change.kind:9} {change.path}: {change.reason}" for change in drift.changes]
        return "\n".join(lines)


async def plan(document: type[AsyncDocument], using: UsingType | None = None, *, state_index: str = STATE_INDEX) -> Plan:
    """What :func:`apply` would do now; nothing is written (the state index is not created).

    Raises:
        NoIndexError: the class has no ``Index.name``.
    """
    client = get_client(using if using is not None else options_of(document).using)
    drift = await detect_drift(document, client)
    state = await StateStore(client, state_index, drift.alias).read()
    if state is not None and state.phase in UNFINISHED:
        return Plan(drift, "resume", state.from_index, state.to_index, state.phase)
    if drift.outcome == "none":
        return Plan(drift, "nothing", drift.index, None)
    if drift.outcome in ("missing", "in_place"):
        return Plan(drift, "init", drift.index, drift.index)
    if not options_of(document).versioned or drift.index in (None, drift.alias):
        return Plan(drift, "adopt", drift.index, None)
    newest = max((version for _, version, _ in await versions(client, drift.alias)), default=0)
    return Plan(drift, "migrate", drift.index, versioned_name(drift.alias, newest + 1))


async def apply(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    *,
    transform: Transform | None = None,
    accept_invalid: bool = False,
    page_size: int = 1000,
    concurrency: int = 2,
    on_progress: Callable[[Progress], None] | None = None,
    lease_seconds: float = 60,
    wait: float = 0,
    state_index: str = STATE_INDEX,
) -> MigrationResult:
    """Bring the index behind ``document``'s alias to its definition: nothing, ``init()``, or a migration.

    A migration copies every document through the model to ``<alias>-v<N+1>``, catches
    up on writes and deletes made meanwhile under a short write block, verifies the copy
    and moves the aliases in one call (see ``docs/migrations.md``).

    Args:
        transform: maps an old ``_source`` dict to the new one, before validation;
            ``None`` from it drops that document (counted and reported).
        accept_invalid: swap even if documents were rejected (they are reported and
            not copied); by default they stop the migration before the swap.
        page_size: documents per page read from the old index.
        concurrency: bulk requests in flight at once.
        on_progress: called with a :class:`Progress` at each phase and page.
        lease_seconds: the lock's lease, renewed every third of it.
        wait: seconds to wait for another process's lock.
        state_index: the index holding migration states and locks.

    Raises:
        MigrationLockedError: another process holds the lock (after ``wait``), or took it over.
        MigrationFailedError: documents were rejected, or the copy did not verify; the alias
            was not moved and the old index is writable.
        MigrationStateError: an interrupted migration must be resumed first, or the index
            must be adopted first.
        ArgumentError: ``page_size`` or ``concurrency`` below 1 (also for resume and
            rollback); nothing was done.
    """
    options = Options(
        transform=transform, accept_invalid=accept_invalid, page_size=page_size, concurrency=concurrency,
        on_progress=on_progress, lease_seconds=lease_seconds, wait=wait, state_index=state_index,
    )
    run = Run(document, using, options)
    return await run.locked(lambda: _migration_steps.apply(run))


async def resume(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    *,
    transform: Transform | None = None,
    page_size: int = 1000,
    concurrency: int = 2,
    on_progress: Callable[[Progress], None] | None = None,
    lease_seconds: float = 60,
    wait: float = 0,
    force: bool = False,
    state_index: str = STATE_INDEX,
) -> MigrationResult:
    """Finish an interrupted migration (or rollback); a no-op when none is unfinished.

    The copy continues from its checkpoint while its point in time is open, else it
    starts over with new marks (same ids are overwritten, so nothing is copied twice in
    the end). From the catch-up or swap phases it continues from that phase.

    Args:
        transform: the same transform the interrupted ``apply`` had (checked by name).
        force: take over the lock at once, even if its lease has not expired (its owner is
            known to be dead); otherwise an expired lease is taken over after ``wait``.

    Raises:
        MigrationLockedError: the owner's lease is still live (after ``wait``).
        MigrationStateError: ``transform`` is not the interrupted run's.
        MigrationFailedError: as for :func:`apply`.
    """
    options = Options(
        transform=transform, page_size=page_size, concurrency=concurrency, on_progress=on_progress,
        lease_seconds=lease_seconds, wait=wait, force=force, state_index=state_index,
    )
    run = Run(document, using, options)
    return await run.locked(lambda: _migration_steps.resume(run))


async def rollback(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    *,
    previous: type[AsyncDocument] | None = None,
    transform: Transform | None = None,
    page_size: int = 1000,
    concurrency: int = 2,
    on_progress: Callable[[Progress], None] | None = None,
    lease_seconds: float = 60,
    wait: float = 0,
    state_index: str = STATE_INDEX,
) -> MigrationResult:
    """Move the alias back to the index the last migration copied from, keeping the writes made since.

    Writes on the current index are blocked; the documents written there since the swap
    are copied back (through ``transform``, then validated by ``previous``, the old
    model, when given; raw otherwise), the documents deleted there are deleted back,
    then the aliases move back in one call. The index rolled back from keeps its write
    block. Documents ``previous`` refuses stop the rollback before anything is written.

    Raises:
        MigrationStateError: no finished migration to roll back, or the alias was moved since.
        MigrationFailedError: documents were refused; the alias was not moved.
        MigrationLockedError: as for :func:`apply`.
    """
    options = Options(
        transform=transform, page_size=page_size, concurrency=concurrency, on_progress=on_progress,
        lease_seconds=lease_seconds, wait=wait, state_index=state_index,
    )
    run = Run(document, using, options)
    return await run.locked(lambda: _rollback.rollback(run, previous))


async def prune(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    keep: int = 1,
    *,
    lease_seconds: float = 60,
    wait: float = 0,
    state_index: str = STATE_INDEX,
) -> list[str]:
    """Delete old ``<alias>-v<N>`` indices no alias points to, keeping the ``keep`` newest of them.

    The live index and any index an alias points to are never deleted; the target a failed
    migration left is always deleted. Runs under the migration lock.

    Raises:
        MigrationStateError: the class is not versioned, no ``<alias>-v<N>`` is behind its
            alias (nothing is live, so nothing is old), or a migration is unfinished.

    Returns:
        The deleted indices.
    """
    if keep < 0:
        raise ArgumentError(f"keep must be 0 or more, not {keep}")
    run = Run(document, using, Options(lease_seconds=lease_seconds, wait=wait, state_index=state_index))
    if not options_of(document).versioned:  # its "-vN" indices are not odm's versions
        raise MigrationStateError(run.alias, f"{document.__name__} is not versioned (Index.versioned): nothing to prune")
    deleted: list[str] = []

    async def step() -> MigrationResult:
        state = await run.store.read()
        if state is not None and state.phase in UNFINISHED:
            raise MigrationStateError(run.alias, f"a migration stopped at phase {state.phase!r}: resume it first")
        live = set(await indices_behind(run.alias, run.client))
        if not any(version_of(name, run.alias) is not None for name in live):  # no live version: none is "old"
            raise MigrationStateError(
                run.alias, f"no index is behind the alias (found: {', '.join(sorted(live)) or 'nothing'}); "
                "prune deletes nothing while no version is live",
            )
        unused = [name for name, _, aliased in await versions(run.client, run.alias) if name not in live and not aliased]
        failed = state.to_index if state is not None and state.phase == "failed" and state.to_index in unused else None
        older = [name for name in reversed(unused) if name != failed]  # newest first
        doomed = ([failed] if failed else []) + older[keep:]
        for name in doomed:
            await run.client.indices.delete(index=name)
            deleted.append(name)
        return run.result("nothing")

    await run.locked(step)
    return deleted
