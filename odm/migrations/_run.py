"""One call of a migration (apply, resume, rollback, prune): its options, lock, progress events,
result, and the steps the migration and the rollback share (copier, alias move, unblock).

The steps themselves are in :mod:`odm.migrations._steps` (apply, resume) and
:mod:`odm.migrations._rollback`; :mod:`odm.migrate` is the public face.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from elasticsearch import AsyncElasticsearch, NotFoundError

from .._core.document_options import options_of
from .._core.retry import Attempts
from .._sending import send
from ..connections import UsingType, get_client
from ..document import AsyncDocument
from ..errors import ArgumentError, MigrationError, MigrationFailedError
from ..schema._versioned import version_of
from ._copy import Copier, PageResult, Transform, primary_seq_nos
from ..schema._fence import Fence, is_fence
from ..schema._lock import STATE_INDEX, Lease, Locked
from ._state import Key, MigrationState, Rejected, StateStore

__all__ = ["UNFINISHED", "MigrationResult", "Options", "Progress", "Run", "versions"]

#: Phases of a migration that did not finish: ``resume`` continues them.
UNFINISHED = frozenset({"created", "copying", "catching_up", "swapping", "rolling_back"})


@dataclass(frozen=True)
class Progress:
    """An event of a running migration, for progress bars and logs.

    Attributes:
        phase: ``create``, ``copy`` (after each page; server-side: each poll of the
            ``_reindex`` task), ``validate`` (server-side: each page of the validation
            pass), ``block``, ``id_pass`` (only when the ids of both indices must be
            listed to find deletes), ``catch_up``, ``verify``, ``swap``, ``done``; a
            rollback reports ``block``, ``copy``, ``swap``, ``done``.
        copied: documents written to the new index in the copy phase so far (a resumed
            copy counts on from its checkpoint); for a rollback, documents copied back.
        total: documents in the old index when the copy started.
        invalid: documents rejected so far.
        rate: documents copied per second in this run.
        caught_up: documents written again in the catch-up (changed during the copy).
    """

    phase: str
    copied: int = 0
    total: int = 0
    invalid: int = 0
    rate: float = 0.0
    caught_up: int = 0


@dataclass(frozen=True)
class MigrationResult:
    """What :func:`~odm.migrate.apply`, :func:`~odm.migrate.resume` or :func:`~odm.migrate.rollback` did.

    Attributes:
        alias: the name users query.
        outcome: ``nothing`` (no change needed, or already done), ``initialized`` (created,
            or changed in place by ``init()``), ``migrated``, ``rolled_back``.
        source: the index the documents came from.
        target: the index the alias points to now.
        total: documents in ``source`` when the copy started.
        copied: documents written in the copy phase (a resumed copy counts on from its
            checkpoint); for a rollback, the documents changed since the swap copied back.
        caught_up: documents written again in the catch-up, because they changed during
            the copy (they are counted in ``copied`` too when the copy had them).
        invalid: the rejected documents (up to ``INVALID_IDS_KEPT`` of them).
        invalid_count: how many were rejected.
        dropped: the ids the transform dropped (mapped to ``None``), up to the same cap; for a
            rollback, the documents changed since the swap that were not copied back.
        dropped_count: how many were dropped.
        seconds: how long this call took.
    """

    alias: str
    outcome: Literal["nothing", "initialized", "migrated", "rolled_back"]
    source: str | None = None
    target: str | None = None
    total: int = 0
    copied: int = 0
    caught_up: int = 0
    invalid: tuple[Rejected, ...] = ()
    invalid_count: int = 0
    dropped: tuple[str, ...] = ()
    dropped_count: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        what = {
            "nothing": "nothing to do",
            "initialized": f"init() created or updated {self.target}",
            "migrated": f"migrated {self.source} -> {self.target}",
            "rolled_back": f"rolled back {self.source} -> {self.target}",
        }[self.outcome]
        counts = {
            "migrated": f": {self.copied} copied of {self.total}, {self.caught_up} caught up, "
            f"{self.invalid_count} invalid, {self.dropped_count} dropped",
            "rolled_back": f": {self.copied} documents changed since the swap copied back"
            + (f", {self.dropped_count} dropped by the transform" if self.dropped_count else ""),
        }.get(self.outcome, "")
        return f"{self.alias}: {what}{counts} in {self.seconds:.1f} s"


@dataclass
class Options:
    """The options of one call, as the public functions took them."""

    transform: Transform | None = None
    accept_invalid: bool = False
    server_side: bool = False
    page_size: int = 1000
    concurrency: int = 2
    on_progress: Callable[[Progress], None] | None = None
    lease_seconds: float = 60
    wait: float = 0
    force: bool = False
    state_index: str = STATE_INDEX

    def __post_init__(self) -> None:
        """Refuse sizes that would make the copy read nothing or never write, and a transform the
        server cannot run, before anything is done."""
        for name in ("page_size", "concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(f"{name} must be an int of 1 or more, not {value!r}")
        if self.server_side and self.transform is not None:
            raise ArgumentError(
                "server_side=True copies each _source as it is with Elasticsearch's _reindex: a Python "
                "transform cannot run there; drop the transform, or copy through the client (server_side=False)"
            )


class Run:
    """One call of apply, resume, rollback or prune: the lock, the state, progress, what was copied."""

    def __init__(self, document: type[AsyncDocument], using: UsingType | None, options: Options) -> None:
        self.document, self.using, self.options = document, using, options
        self.client: AsyncElasticsearch = get_client(using if using is not None else options_of(document).using)
        self.alias = document.index_name()
        self.store = StateStore(self.client, options.state_index, self.alias)
        #: The migration lock of the alias, the one adopt() takes too.
        self.lock = Locked(self.client, self.store.index, self.alias, options.lease_seconds)
        self.started = time.monotonic()
        self.copy_started = time.monotonic()
        self.copied = 0
        self.invalid: dict[Key, str] = {}
        self.dropped: set[Key] = set()

    async def locked(self, step: Callable[[], Any]) -> MigrationResult:
        """Run ``step`` holding the migration lock of the alias (its lease renewed meanwhile)."""
        result: MigrationResult = await self.lock.run(step, self.options.wait, self.options.force)
        return result

    @property
    def lease(self) -> Lease:
        """The lease of this run's lock."""
        return self.lock.lease

    @property
    def fence(self) -> Fence:
        """This owner's fence (:mod:`odm.schema._fence`), named for the lease it acquired."""
        return self.lock.fence

    def progress(self, phase: str, state: MigrationState | None = None) -> None:
        """Report ``phase``: a migration's counts are its state's, a rollback's this run's."""
        if self.options.on_progress is not None:
            elapsed = time.monotonic() - self.copy_started
            rate = self.copied / elapsed if elapsed > 0 else 0.0
            copied, total, caught_up = (
                (state.copied, state.total, state.caught_up) if state is not None else (self.copied, 0, 0)
            )
            self.options.on_progress(Progress(phase, copied, total, len(self.invalid), rate, caught_up))

    def result(self, outcome: Any, state: MigrationState | None = None) -> MigrationResult:
        seconds = time.monotonic() - self.started
        if state is None:
            return MigrationResult(self.alias, outcome, seconds=seconds)
        return MigrationResult(
            self.alias, outcome, state.from_index, state.to_index, state.total, state.copied, state.caught_up,
            state.rejected(), state.invalid_count, tuple(entry["id"] for entry in state.dropped), state.dropped_count,
            seconds,
        )

    async def save(self, state: MigrationState, phase: str | None = None) -> None:
        if phase is not None:
            state.phase = phase
        state.record_rejects(self.invalid, self.dropped)
        await self.store.write(state)

    async def save_quietly(self, state: MigrationState) -> None:
        try:
            await self.store.write(state)
        except Exception:  # the original error is the one to report
            pass

    async def fail(self, state: MigrationState, message: str, created: bool = True) -> None:
        """Record the failure and raise it; the source is unblocked by the caller.

        ``created=False``: the target was never created, so the state names none (nothing
        is left for the next apply or prune to delete).

        Raises:
            MigrationFailedError: always.
        """
        left = f", {state.to_index} is left for inspection (the next apply or prune deletes it)" if created else ""
        if not created:
            state.to_index = None
        state.error = message
        await self.save(state, "failed")
        raise MigrationFailedError(
            self.alias, f"{message}; the alias stays on {state.from_index}{left}", self.result("nothing", state),
        )

    async def take_marks(self, state: MigrationState) -> None:
        """Marks first, then a refresh: every write with a seq_no at or below a mark is in what the copy
        reads (opened after this); the others are caught up. A mark is its shard's local checkpoint,
        not its max_seq_no: a write issued a lower number may not be indexed yet when the refresh runs."""
        assert state.from_index is not None
        self.invalid, self.dropped = {}, set()
        state.marks = await primary_seq_nos(self.client, state.from_index, "local_checkpoint")
        await self.client.indices.refresh(index=state.from_index)

    async def delete(self, copier: Copier[Any], keys: list[Key] | set[Key]) -> None:
        """Delete ``keys`` from the copier's target (through the fence).

        Raises:
            MigrationError: some deletes failed (each named, up to 10).
        """
        failed = await copier.delete(keys)
        if failed:
            listed = ", ".join(f"{id!r}: {reason}" for (id, _), reason in sorted(failed.items())[:10])
            raise MigrationError(self.alias, f"{len(failed)} deletes from {copier.target!r} failed: {listed}")

    def copier(self, document: type[AsyncDocument], target: str) -> Copier[Any]:
        """Writes documents of ``document`` to ``target`` through this owner's fence (taken before its first
        write), ``concurrency`` requests at a time."""
        return Copier(
            self.client, self.alias, document, target, self.options.transform, self.options.concurrency,
            chunk_size=max(1, min(500, self.options.page_size // self.options.concurrency or 1)), fence=self.fence,
        )

    def merge(self, page: PageResult) -> None:
        """Take in a page's outcome: a document's latest copy decides whether it is rejected or dropped."""
        for key in page.copied | page.invalid.keys() | page.dropped:
            self.invalid.pop(key, None)
            self.dropped.discard(key)
        self.invalid.update(page.invalid)
        self.dropped |= page.dropped
        self.copied += len(page.copied)

    async def move_aliases(self, source: str, target: str) -> None:
        """One ``_aliases`` call: every alias of ``source`` moves to ``target`` with its options, and this
        owner's fence goes (``must_exist``: when a newer owner removed it, nothing moves).

        Raises:
            MigrationLockedError: a newer owner took the fence; no alias moved.
        """
        await self.fence.take(target)
        aliases: Mapping[str, Any] = (await self.client.indices.get_alias(index=source))[source]["aliases"]
        actions: list[Mapping[str, Any]] = list(self.fence.removal())
        for name, options in sorted(aliases.items()):
            if is_fence(name, self.alias):  # an owner's, never moved
                continue
            actions.append({"remove": {"index": source, "alias": name, "must_exist": True}})
            add = {"index": target, "alias": name, **options}
            if name == self.alias:
                add["is_write_index"] = True
            actions.append({"add": add})
        tally = Attempts()
        try:
            await send(self.client, lambda quiet: quiet.indices.update_aliases(actions=actions), None, tally)
        except NotFoundError as error:
            if tally.resent_after_lost_answer and await self._moved(source, target, aliases):
                pass  # the re-send met its own first attempt, which moved them (and removed the fence)
            elif await self.fence.exists():
                raise
            else:
                raise self.fence.lost("its fence was removed before the alias swap") from error
        self.fence.removed()

    async def _moved(self, source: str, target: str, aliases: Mapping[str, Any]) -> bool:
        """Whether every alias of ``source`` the swap moves (not the fences) now points at ``target``, not ``source``."""
        names = {name for name in aliases if not is_fence(name, self.alias)}
        if not names:
            return False
        answer = await send(self.client, lambda quiet: quiet.options(ignore_status=404).indices.get_alias(name=sorted(names)))
        found: Mapping[str, Any] = answer.body if answer.meta.status == 200 else {}
        behind = {index: set(entry.get("aliases", {})) for index, entry in found.items()}
        return names <= behind.get(target, set()) and not names & behind.get(source, set())

    async def block(self, index: str) -> None:
        """Block writes on ``index`` through this owner's fence (waits for writes in flight).

        Raises:
            MigrationLockedError: a newer owner took the migration over; nothing was changed.
        """
        await self.fence.block(index)

    async def unblock(self, index: str) -> None:
        """Lift the write block of ``index`` through this owner's fence: a process that lost the lock cannot
        lift the block of the one that took it over.

        Raises:
            MigrationLockedError: a newer owner took the migration over; nothing was changed.
        """
        await self.fence.put_settings(index, {"index.blocks.write": None})


async def versions(client: AsyncElasticsearch, alias: str) -> list[tuple[str, int, bool]]:
    """The ``<alias>-v<N>`` indices that exist: name, version, whether any alias points to it; by version."""
    answer = await client.options(ignore_status=404).indices.get(
        index=f"{alias}-v*", expand_wildcards="all", allow_no_indices=True, features="aliases"
    )
    found: Mapping[str, Any] = answer.body if answer.meta.status == 200 else {}
    named = [
        (name, version_of(name, alias), any(not is_fence(other, alias) for other in body.get("aliases", {})))
        for name, body in found.items()
    ]
    return sorted(((name, v, aliased) for name, v, aliased in named if v is not None), key=lambda item: item[1])
