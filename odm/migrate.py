"""Migrations of a versioned document class to a new index, through its model: plan, apply, resume, rollback, prune.

``apply`` creates ``<alias>-v<N+1>`` from the class's definition, copies every document
through the model (an optional transform first; or, with ``server_side=True``, with
Elasticsearch's ``_reindex`` followed by a validation pass through the model) while the
old index stays writable,
blocks writes on the old index for a short final pass that copies what changed
meanwhile (by sequence number) and deletes what was deleted, verifies counts and a
sample, and moves the aliases in one atomic call. State and lock live in Elasticsearch
(:mod:`odm.migrations._state`), so an interrupted migration is resumed from any host.
This module is the public face; the steps are in :mod:`odm.migrations._steps` and
:mod:`odm.migrations._rollback`, the frame they share in :mod:`odm.migrations._run`.
``docs/migrations.md`` walks through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._core.document_options import options_of
from .connections import UsingType, get_client
from .document import AsyncDocument
from .errors import ArgumentError, MigrationStateError
from .migrations import _rollback, _steps
from .migrations._copy import Transform
from .migrations._run import UNFINISHED, MigrationResult, Options, Progress, Run, versions
from .migrations._state import STATE_INDEX, Rejected, StateStore
from .schema._drift import live_odm_meta
from .schema._versioned import Drift, detect_drift, indices_behind, version_of, versioned_name

__all__ = ["MigrationResult", "Plan", "Progress", "PruneResult", "Rejected", "apply", "plan", "prune", "resume", "rollback"]


@dataclass(frozen=True)
class Plan:
    """What :func:`apply` would do, found without writing anything.

    Attributes:
        drift: the class against its live index, change by change.
        action: ``nothing``; ``init`` (create the index, or apply in-place changes);
            ``migrate`` (copy to ``target``); ``adopt`` (a concrete index or a class not
            ``versioned``: run ``adopt()`` first); ``resume`` (an interrupted migration);
            ``refuse`` (``apply`` would refuse: ``reason`` says why and what to do).
        source: the index read from (the live one).
        target: the index a migration would create.
        unfinished: the phase of an interrupted migration, if any.
        reason: why ``apply`` would refuse, and the way out.
    """

    drift: Drift
    action: Literal["nothing", "init", "migrate", "adopt", "resume", "refuse"]
    source: str | None
    target: str | None
    unfinished: str | None = None
    reason: str | None = None

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
            "refuse": f"{drift.alias}: apply would refuse: {self.reason}",
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
    first = versioned_name(drift.alias, 1)
    if drift.outcome == "missing" and options_of(document).versioned and await client.indices.exists(index=first):
        return Plan(  # init() creates <alias>-v1 behind the alias only when neither exists
            drift, "refuse", None, first, reason=f"{first} exists but the alias {drift.alias} does not point to it, "
            "and odm does not take over an index it did not create (init() raises VersionedIndexError). "
            f"Delete {first}, or add the alias to it (is_write_index: true), then apply again",
        )
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
    server_side: bool = False,
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
        server_side: copy with Elasticsearch's ``_reindex`` (a task, polled; needs the
            reindex module) instead of through the client, then read every copied
            document through the model (no writes) to reject the invalid ones as the
            client copy does. Sources are copied as they are; no ``transform``.
        page_size: documents per page read from the old index (the ``_reindex`` batch size).
        concurrency: bulk requests in flight at once (the client copy, and the catch-up).
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
            rollback), or ``transform`` with ``server_side``; nothing was done.
        MigrationError: ``server_side`` on a cluster whose nodes lack the reindex module;
            nothing was done. Or the ``_reindex`` task was lost (resume copies again).
    """
    options = Options(
        transform=transform, accept_invalid=accept_invalid, server_side=server_side, page_size=page_size,
        concurrency=concurrency, on_progress=on_progress, lease_seconds=lease_seconds, wait=wait,
        state_index=state_index,
    )
    run = Run(document, using, options)
    return await run.locked(lambda: _steps.apply(run))


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
    the end). A server-side copy waits for its ``_reindex`` task (running, or finished)
    and starts over if the cluster lost it. From the catch-up or swap phases it continues
    from that phase. The target must carry the interrupted migration's id in its
    ``_meta``: an index of that name made by anyone else is never written to.

    Args:
        transform: the same transform the interrupted ``apply`` had (checked by name).
        force: take over the lock at once, even if its lease has not expired (its owner is
            known to be dead); otherwise an expired lease is taken over after ``wait``.

    Raises:
        MigrationLockedError: the owner's lease is still live (after ``wait``).
        MigrationStateError: ``transform`` is not the interrupted run's, or the target
            was not created by this migration (nothing is written to it; the migration is
            marked failed unless the aliases moved already).
        MigrationFailedError: as for :func:`apply`.
    """
    options = Options(
        transform=transform, page_size=page_size, concurrency=concurrency, on_progress=on_progress,
        lease_seconds=lease_seconds, wait=wait, force=force, state_index=state_index,
    )
    run = Run(document, using, options)
    return await run.locked(lambda: _steps.resume(run))


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


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` did.

    Attributes:
        alias: the name users query.
        deleted: the indices deleted.
        kept: every other ``<alias>-v<N>`` index, by version, with why it was kept: live,
            an alias points to it, one of the ``keep`` newest, not created by odm (no
            ``_meta.odm`` in its mapping), or created by odm for another name.
    """

    alias: str
    deleted: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.alias}: deleted {', '.join(self.deleted) if self.deleted else 'nothing'}"]
        return "\n".join(lines + [f"  kept {index}: {why}" for index, why in self.kept])


async def prune(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    keep: int = 1,
    *,
    lease_seconds: float = 60,
    wait: float = 0,
    state_index: str = STATE_INDEX,
) -> PruneResult:
    """Delete old ``<alias>-v<N>`` indices odm created for this alias and no alias points to, keeping the
    ``keep`` newest of them.

    Only an index whose mapping's ``_meta.odm`` marks it as odm's (written by ``init()``
    and migrations), for this alias when it names one, is deleted: a ``<alias>-v<N>`` made
    by hand is kept, and listed. The live index and any index an alias points to are never
    deleted; the target a failed migration left (carrying that migration's id) is always
    deleted. Runs under the migration lock.

    Raises:
        MigrationStateError: the class is not versioned, no ``<alias>-v<N>`` is behind its
            alias (nothing is live, so nothing is old), or a migration is unfinished.
    """
    if keep < 0:
        raise ArgumentError(f"keep must be 0 or more, not {keep}")
    run = Run(document, using, Options(lease_seconds=lease_seconds, wait=wait, state_index=state_index))
    if not options_of(document).versioned:  # its "-vN" indices are not odm's versions
        raise MigrationStateError(run.alias, f"{document.__name__} is not versioned (Index.versioned): nothing to prune")
    outcome: list[PruneResult] = []

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
        found = await versions(run.client, run.alias)
        kept = {
            name: "live (behind the alias)" if name in live else "an alias points to it"
            for name, _, aliased in found
            if name in live or aliased
        }
        unused = [name for name, _, _ in found if name not in kept]
        metas = await _odm_metas(run, unused)
        ours: list[str] = []
        for name in unused:
            meta = metas.get(name)
            if meta is None:
                kept[name] = "not created by odm (its mapping has no _meta.odm)"
            elif meta.get("name", run.alias) != run.alias:
                kept[name] = f"created by odm for {meta['name']!r}, not for {run.alias!r}"
            else:
                ours.append(name)
        failed = None  # the target a failed migration left, if that migration created it
        if state is not None and state.phase == "failed" and state.to_index in ours:
            made_by = (metas[state.to_index] or {}).get("migration")
            failed = state.to_index if made_by == state.migration else None
        older = [name for name in reversed(ours) if name != failed]  # newest first
        kept.update({name: f"one of the {keep} newest old versions (keep={keep})" for name in older[:keep]})
        doomed = ([failed] if failed else []) + older[keep:]
        deleted: list[str] = []
        for name in doomed:
            await run.client.indices.delete(index=name)
            deleted.append(name)
        by_version = tuple((name, kept[name]) for name, _, _ in found if name in kept)
        outcome.append(PruneResult(run.alias, tuple(deleted), by_version))
        return run.result("nothing")

    await run.locked(step)
    return outcome[0]


async def _odm_metas(run: Run, indices: list[str]) -> dict[str, Mapping[str, Any] | None]:
    """Each index's ``_meta.odm`` (``None``: not odm's)."""
    if not indices:  # an empty index list would read every index
        return {}
    answer = await run.client.indices.get_mapping(index=indices)
    return {name: live_odm_meta(answer.body.get(name, {}).get("mappings", {})) for name in indices}
