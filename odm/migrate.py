"""Migrations of a versioned document class to a new index, through its model: plan, apply, resume, rollback, prune.

``apply`` creates ``<alias>-v<N+1>`` from the class's definition, copies every document
through the model (an optional transform first) while the old index stays writable,
blocks writes on the old index for a short final pass that copies what changed
meanwhile (by sequence number) and deletes what was deleted, verifies counts and a
sample, and moves the aliases in one atomic call. State and lock live in Elasticsearch
(:mod:`odm._migration_state`), so an interrupted migration is resumed from any host.
``docs/migrations.md`` walks through it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from elasticsearch import AsyncElasticsearch, NotFoundError

from ._copy import Copier, PageResult, Transform, changed_pages, copy_raw, keys_of, pit_pages, primary_max_seq_nos
from ._document_options import options_of
from ._migration_state import STATE_INDEX, Key, Lease, MigrationState, Rejected, StateStore, owner_id
from .connections import UsingType, get_client
from .document import AsyncDocument
from .errors import MigrationFailedError, MigrationLockedError, MigrationStateError
from .schema import Drift, definition_body, detect_drift, indices_behind, version_of, versioned_name

__all__ = ["MigrationResult", "Plan", "Progress", "Rejected", "apply", "plan", "prune", "resume", "rollback"]

#: Phases of a migration that did not finish: ``resume`` continues them.
_UNFINISHED = frozenset({"created", "copying", "catching_up", "swapping", "rolling_back"})
_KEEP_ALIVE = "5m"  # of the point in time the copy reads (renewed by each page)
_SAMPLE = 100  # documents whose copy is compared with its source, at random, by verify
_SETTINGS_KEPT_FOR_COPY = ("number_of_replicas", "refresh_interval")


@dataclass(frozen=True)
class Progress:
    """An event of a running migration, for progress bars and logs.

    Attributes:
        phase: ``create``, ``copy`` (after each page), ``block``, ``catch_up``, ``verify``,
            ``swap``, ``done``; a rollback reports ``block``, ``copy``, ``swap``, ``done``.
        copied: documents written to the new index so far.
        total: documents in the old index when the copy started.
        invalid: documents rejected so far.
        rate: documents copied per second in this run.
    """

    phase: str
    copied: int = 0
    total: int = 0
    invalid: int = 0
    rate: float = 0.0


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
            "set Index.versioned = True and run adopt first",
            "resume": f"{drift.alias}: a migration to {self.target} stopped at phase {self.unfinished!r}: run resume",
        }[self.action]
        lines = [head] + [f"  {change.kind:9} {change.path}: {change.reason}" for change in drift.changes]
        return "\n".join(lines)


@dataclass(frozen=True)
class MigrationResult:
    """What :func:`apply`, :func:`resume` or :func:`rollback` did.

    Attributes:
        alias: the name users query.
        outcome: ``nothing`` (no change needed, or already done), ``initialized`` (created,
            or changed in place by ``init()``), ``migrated``, ``rolled_back``.
        source: the index the documents came from.
        target: the index the alias points to now.
        total: documents in ``source`` when the copy started.
        copied: documents written by this run (a resumed run counts from its checkpoint).
        invalid: the rejected documents (up to ``INVALID_IDS_KEPT`` of them).
        invalid_count: how many were rejected.
        dropped: the ids the transform dropped (mapped to ``None``), up to the same cap.
        dropped_count: how many were dropped.
        seconds: how long this call took.
    """

    alias: str
    outcome: Literal["nothing", "initialized", "migrated", "rolled_back"]
    source: str | None = None
    target: str | None = None
    total: int = 0
    copied: int = 0
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
            "migrated": f": {self.copied} copied of {self.total}, {self.invalid_count} invalid, {self.dropped_count} dropped",
            "rolled_back": f": {self.copied} documents changed since the swap copied back",
        }.get(self.outcome, "")
        return f"{self.alias}: {what}{counts} in {self.seconds:.1f} s"


@dataclass
class _Options:
    transform: Transform | None = None
    accept_invalid: bool = False
    page_size: int = 1000
    concurrency: int = 2
    on_progress: Callable[[Progress], None] | None = None
    lease_seconds: float = 60
    wait: float = 0
    force: bool = False
    state_index: str = STATE_INDEX


def _name_of(function: Callable[..., Any] | None) -> str | None:
    return None if function is None else f"{function.__module__}:{function.__qualname__}"


def _class_name(document: type[AsyncDocument]) -> str:
    return f"{document.__module__}:{document.__qualname__}"


def _alias_of(document: type[AsyncDocument]) -> str:
    return document.index_name()


class _Run:
    """One call of apply, resume or rollback: the lock, the state, and the steps."""

    def __init__(self, document: type[AsyncDocument], using: UsingType | None, options: _Options) -> None:
        self.document, self.using, self.options = document, using, options
        self.client: AsyncElasticsearch = get_client(using if using is not None else options_of(document).using)
        self.alias = _alias_of(document)
        self.store = StateStore(self.client, options.state_index, self.alias)
        self.lease = Lease(self.client, self.store.index, self.alias, options.lease_seconds, owner_id())
        self.started = time.monotonic()
        self.copy_started = time.monotonic()
        self.copied = 0
        self.invalid: dict[Key, str] = {}
        self.dropped: set[Key] = set()

    # -- the frame: lock, progress, result ----------------------------------------------

    async def locked(self, step: Callable[[], Any]) -> MigrationResult:
        await self.store.ensure_index()
        await self.lease.acquire(self.options.wait, self.options.force)
        async with self.lease:
            result: MigrationResult = await step()
            return result

    def progress(self, phase: str, total: int = 0) -> None:
        if self.options.on_progress is not None:
            elapsed = time.monotonic() - self.copy_started
            rate = self.copied / elapsed if elapsed > 0 else 0.0
            self.options.on_progress(Progress(phase, self.copied, total, len(self.invalid), rate))

    def result(self, outcome: Any, state: MigrationState | None = None) -> MigrationResult:
        seconds = time.monotonic() - self.started
        if state is None:
            return MigrationResult(self.alias, outcome, seconds=seconds)
        return MigrationResult(
            self.alias, outcome, state.from_index, state.to_index, state.total, self.copied,
            state.rejected(), state.invalid_count, tuple(entry["id"] for entry in state.dropped), state.dropped_count,
            seconds,
        )

    async def save(self, state: MigrationState, phase: str | None = None) -> None:
        if phase is not None:
            state.phase = phase
        state.record_rejects(self.invalid, self.dropped)
        await self.store.write(state)

    # -- apply and resume ------------------------------------------------------------

    async def apply(self) -> MigrationResult:
        state = await self.store.read()
        if state is not None and state.phase in _UNFINISHED:
            raise MigrationStateError(
                self.alias, f"a migration to {state.to_index} stopped at phase {state.phase!r}; run resume to finish it"
            )
        drift = await detect_drift(self.document, self.client)
        if drift.outcome == "none":
            return self.result("nothing")
        if drift.outcome in ("missing", "in_place"):
            await self.document.init(using=self.client)
            initialized = MigrationResult(self.alias, "initialized", target=drift.index or self.alias)
            return initialized
        source = self._source_of(drift)
        if state is not None and state.phase == "failed" and state.to_index:
            await self._delete_leftover(state.to_index)
        target = versioned_name(self.alias, await self._next_version())
        state = MigrationState(
            self.alias, "created", source, target, _class_name(self.document), self.lease.owner,
            transform=_name_of(self.options.transform), accept_invalid=self.options.accept_invalid,
        )
        await self.store.write(state)
        return await self.run_from(state)

    async def resume(self) -> MigrationResult:
        state = await self.store.read()
        if state is None or state.phase not in _UNFINISHED:
            return self.result("nothing")
        if state.phase == "rolling_back":
            return await self.rollback_from(state, None)
        wanted = _name_of(self.options.transform)
        if wanted != state.transform:
            raise MigrationStateError(
                self.alias, f"the interrupted migration ran with transform {state.transform}, this resume with {wanted}"
            )
        self.options.accept_invalid = state.accept_invalid
        self.invalid, self.dropped = state.rejects()
        return await self.run_from(state)

    def _source_of(self, drift: Drift) -> str:
        if not options_of(self.document).versioned or drift.index in (None, drift.alias):
            raise MigrationStateError(
                self.alias,
                f"{drift.index} is a concrete index, not behind a versioned alias: set Index.versioned = True "
                "in the class and run `odm adopt` (odm.schema.adopt) first",
            )
        assert drift.index is not None
        return drift.index

    async def run_from(self, state: MigrationState) -> MigrationResult:
        """Run the steps of ``state.phase`` and the ones after it."""
        if state.phase in ("created", "copying"):
            await self.copy(state)
        if state.phase == "catching_up":
            await self.catch_up(state)
        if state.phase == "swapping":
            await self.swap(state)
        self.progress("done", state.total)
        return self.result("migrated", state)

    async def copy(self, state: MigrationState) -> None:
        """Create the target (if not yet), then copy every document of the source through the model."""
        assert state.from_index is not None and state.to_index is not None
        source, target = state.from_index, state.to_index
        if state.phase == "created":
            await self._create_target(state)
            self.progress("create")
        checkpoint = state.checkpoint if state.phase == "copying" and not state.ids_truncated else None
        if checkpoint is None or not await self._pit_alive(checkpoint["pit"]):
            # Marks first, then a refresh, then the point in time: every write with a
            # seq_no at or below a mark is in what the copy reads; the others are caught up.
            self.invalid, self.dropped = {}, set()
            state.marks = await primary_max_seq_nos(self.client, source)
            await self.client.indices.refresh(index=source)
            pit = (await self.client.open_point_in_time(index=source, keep_alive=_KEEP_ALIVE))["id"]
            state.total = int((await self.client.count(index=source))["count"])
            state.copied, checkpoint = 0, {"pit": pit, "after": None}
            state.checkpoint = checkpoint
            await self.save(state, "copying")
        copier = self._copier(target)
        pit = checkpoint["pit"]
        self.copy_started = time.monotonic()
        async for hits, after, pit in pit_pages(
            self.client, pit, checkpoint["after"], self.options.page_size, _KEEP_ALIVE
        ):
            self.lease.check()
            self._merge(await copier.copy(hits))
            state.copied += len(hits)
            state.checkpoint = {"pit": pit, "after": after}
            await self.save(state)
            self.progress("copy", state.total)
        await self.client.options(ignore_status=404).close_point_in_time(id=pit)
        if self.invalid and not self.options.accept_invalid:
            await self._fail(state, f"{len(self.invalid)} documents were rejected by {self.document.__name__}")
        await self.save(state, "catching_up")

    async def catch_up(self, state: MigrationState) -> None:
        """Block writes on the source, copy what changed since the marks, delete what was deleted, verify."""
        assert state.from_index is not None and state.to_index is not None
        source, target = state.from_index, state.to_index
        await self.client.indices.add_block(index=source, block="write")  # waits for writes in flight
        self.progress("block", state.total)
        try:
            await self.client.indices.refresh(index=source)
            copier = self._copier(target)
            async for hits in changed_pages(self.client, source, state.marks, self.options.page_size):
                self.lease.check()
                page = await copier.copy(hits)
                self._merge(page)
                await copier.delete(list(page.invalid) + list(page.dropped))  # an earlier copy of them
            await self.client.indices.refresh(index=target)
            source_keys, target_keys = await keys_of(self.client, source), await keys_of(self.client, target)
            self.invalid = {key: reason for key, reason in self.invalid.items() if key in source_keys}
            self.dropped &= source_keys
            keep = source_keys - self.invalid.keys() - self.dropped
            await copier.delete(target_keys - keep)
            self.progress("catch_up", state.total)
            if self.invalid and not self.options.accept_invalid:
                await self._fail(state, f"{len(self.invalid)} documents were rejected by {self.document.__name__}")
            await self._verify(state, copier, keep, target_keys)
            state.swap_marks = await primary_max_seq_nos(self.client, target)
            await self.save(state, "swapping")
            self.progress("verify", state.total)
        except MigrationLockedError:
            raise  # another process owns the migration now: its block is not ours to lift
        except BaseException as error:
            await self._unblock(source)
            if not isinstance(error, MigrationFailedError):  # failed is final; the rest can be resumed
                state.error = f"{type(error).__name__}: {error}"
                await self._save_quietly(state)
            raise

    async def _verify(self, state: MigrationState, copier: Copier[Any], keep: set[Key], before_deletes: set[Key]) -> None:
        """The target holds exactly the source's documents (less the rejected and dropped), as copied."""
        assert state.from_index is not None and state.to_index is not None
        source, target = state.from_index, state.to_index
        missing = keep - before_deletes
        if missing:
            ids = ", ".join(sorted(id for id, _ in missing)[:10])
            await self._fail(state, f"{len(missing)} documents of {source} are missing from {target}: {ids}")
        await self.client.indices.refresh(index=target)
        count = int((await self.client.count(index=target))["count"])
        if count != len(keep):
            await self._fail(state, f"{target} holds {count} documents, {len(keep)} were expected")
        sample = random.sample(sorted(keep, key=lambda key: (key[0], key[1] or "")), min(_SAMPLE, len(keep)))
        if not sample:
            return
        docs = [{"_id": id, **({"routing": routing} if routing is not None else {})} for id, routing in sample]
        old = (await self.client.mget(index=source, docs=docs))["docs"]
        new = (await self.client.mget(index=target, docs=docs))["docs"]
        for before, after in zip(old, new):
            if copier.expected_source(before) != after.get("_source"):
                await self._fail(state, f"the copy of document {before['_id']!r} in {target} differs from its source")

    async def swap(self, state: MigrationState) -> None:
        """Move every alias of the source to the target in one call; set the target's settings back."""
        assert state.from_index is not None and state.to_index is not None
        source, target = state.from_index, state.to_index
        behind = await indices_behind(self.alias, self.client)
        if behind != [target]:
            if behind != [source]:
                raise MigrationStateError(self.alias, f"the alias points to {behind}, not to {source} or {target}")
            self.lease.check()
            await self._move_aliases(source, target)
        self.progress("swap", state.total)
        wanted = {key: state.wanted_settings.get(key) for key in _SETTINGS_KEPT_FOR_COPY}
        await self.client.indices.put_settings(index=target, settings={"index": wanted})
        state.checkpoint = None
        await self.save(state, "done")

    # -- rollback --------------------------------------------------------------------

    async def rollback(self, previous: type[AsyncDocument] | None) -> MigrationResult:
        state = await self.store.read()
        if state is None or state.phase not in ("done", "rolling_back") or not state.to_index or not state.from_index:
            phase = state.phase if state is not None else "none"
            raise MigrationStateError(self.alias, f"no finished migration to roll back (last phase: {phase})")
        if state.phase == "done":
            behind = await indices_behind(self.alias, self.client)
            if behind != [state.to_index]:
                raise MigrationStateError(self.alias, f"the alias points to {behind}, not to {state.to_index}")
            if state.ids_truncated:
                raise MigrationStateError(
                    self.alias, "the migration rejected or dropped more documents than the state keeps; "
                    "deletes made since the swap cannot be told from them",
                )
            state.phase = "rolling_back"  # store.write, not save(): the migration's rejects stay recorded
            await self.store.write(state)
        return await self.rollback_from(state, previous)

    async def rollback_from(self, state: MigrationState, previous: type[AsyncDocument] | None) -> MigrationResult:
        """Copy back what changed in the target since the swap, then move the aliases back."""
        assert state.from_index is not None and state.to_index is not None
        current, earlier = state.to_index, state.from_index
        self.invalid, self.dropped = {}, set()
        excluded = set(state.rejects()[0]) | state.rejects()[1]
        await self.client.indices.add_block(index=current, block="write")
        self.progress("block")
        try:
            await self.client.indices.refresh(index=current)
            if await indices_behind(self.alias, self.client) == [current]:
                await self._copy_back(state, previous, excluded)
                self.lease.check()
                await self._move_aliases(current, earlier)
            self.progress("swap")
        except MigrationLockedError:
            raise
        except BaseException as error:
            await self._unblock(current)
            if isinstance(error, MigrationFailedError):  # refused: the migration stands, as it was
                state.phase, state.error = "done", str(error)
                await self._save_quietly(state)
            raise
        state.phase = "rolled_back"
        await self.store.write(state)
        self.progress("done")
        return MigrationResult(
            self.alias, "rolled_back", current, earlier, copied=self.copied, seconds=time.monotonic() - self.started
        )

    async def _copy_back(self, state: MigrationState, previous: type[AsyncDocument] | None, excluded: set[Key]) -> None:
        assert state.from_index is not None and state.to_index is not None
        current, earlier = state.to_index, state.from_index
        transform = self.options.transform
        copier = Copier(
            self.client, self.alias, previous, earlier, transform, self.options.concurrency
        ) if previous is not None else None
        if copier is not None:  # check every changed document first: nothing is written if one is refused
            async for hits in changed_pages(self.client, current, state.swap_marks, self.options.page_size):
                self._merge(copier.prepare(hits)[1])
            self._refuse_rejects(state, "the previous model")
        current_keys, earlier_keys = await keys_of(self.client, current), await keys_of(self.client, earlier)
        deleted = earlier_keys - current_keys - excluded
        await self.client.indices.put_settings(index=earlier, settings={"index.blocks.write": None})
        try:
            async for hits in changed_pages(self.client, current, state.swap_marks, self.options.page_size):
                self.lease.check()
                page = await copier.copy(hits) if copier else await copy_raw(self.client, self.alias, earlier, hits, transform)
                self._merge(page)
                self.progress("copy")
            self._refuse_rejects(state, f"index {earlier}")
            if deleted:
                await self.client.bulk(
                    operations=[
                        {"delete": {"_index": earlier, "_id": id, **({"routing": r} if r is not None else {})}}
                        for id, r in sorted(deleted, key=lambda key: (key[0], key[1] or ""))
                    ],
                    refresh=True,
                )
            await self.client.indices.refresh(index=earlier)
        except MigrationLockedError:
            raise
        except BaseException:
            await self.client.indices.add_block(index=earlier, block="write")
            raise

    def _refuse_rejects(self, state: MigrationState, by: str) -> None:
        if self.invalid:
            rejected = tuple(Rejected(id, reason, routing) for (id, routing), reason in sorted(self.invalid.items()))
            result = MigrationResult(
                self.alias, "nothing", state.to_index, state.to_index, copied=self.copied,
                invalid=rejected, invalid_count=len(rejected),
            )
            raise MigrationFailedError(
                self.alias, f"{len(rejected)} documents changed since the swap are refused by {by}; "
                f"the alias stays on {state.to_index}", result,
            )

    # -- steps shared ----------------------------------------------------------------

    def _copier(self, target: str) -> Copier[Any]:
        return Copier(
            self.client, self.alias, self.document, target, self.options.transform, self.options.concurrency,
            chunk_size=max(1, min(500, self.options.page_size // self.options.concurrency or 1)),
        )

    def _merge(self, page: PageResult) -> None:
        """Take in a page's outcome: a document's latest copy decides whether it is rejected or dropped."""
        for key in page.copied | page.invalid.keys() | page.dropped:
            self.invalid.pop(key, None)
            self.dropped.discard(key)
        self.invalid.update(page.invalid)
        self.dropped |= page.dropped
        self.copied += len(page.copied)

    async def _create_target(self, state: MigrationState) -> None:
        """Create the target from the class's definition, with no replicas and no refresh during the copy."""
        assert state.to_index is not None
        target = state.to_index
        body = definition_body(self.document)  # no aliases: they move at the swap
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
        if not await self.client.indices.exists(index=target):
            await self.client.indices.create(index=target, settings=settings, mappings=body.get("mappings", {}))
        await self.save(state, "created")

    async def _pit_alive(self, pit: str) -> bool:
        try:
            await self.client.search(pit={"id": pit}, size=0, track_total_hits=False)
        except NotFoundError:
            return False
        return True

    async def _next_version(self) -> int:
        return max((version for _, version, _ in await _versions(self.client, self.alias)), default=0) + 1

    async def _delete_leftover(self, index: str) -> None:
        """Delete the target a failed migration left for inspection, unless an alias points to it."""
        answer = await self.client.options(ignore_status=404).indices.get_alias(index=index)
        if answer.meta.status == 200 and not answer.body.get(index, {}).get("aliases"):
            await self.client.indices.delete(index=index)

    async def _move_aliases(self, source: str, target: str) -> None:
        """One ``_aliases`` call: every alias of ``source`` moves to ``target`` with its options."""
        aliases: Mapping[str, Any] = (await self.client.indices.get_alias(index=source))[source]["aliases"]
        actions: list[Mapping[str, Any]] = []
        for name, options in sorted(aliases.items()):
            actions.append({"remove": {"index": source, "alias": name, "must_exist": True}})
            add = {"index": target, "alias": name, **options}
            if name == self.alias:
                add["is_write_index"] = True
            actions.append({"add": add})
        await self.client.indices.update_aliases(actions=actions)

    async def _unblock(self, index: str) -> None:
        await self.client.indices.put_settings(index=index, settings={"index.blocks.write": None})

    async def _fail(self, state: MigrationState, message: str) -> None:
        """Record the failure and raise it; the source is unblocked by the caller."""
        state.error = message
        await self.save(state, "failed")
        raise MigrationFailedError(
            self.alias, f"{message}; the alias stays on {state.from_index}, {state.to_index} is left for inspection "
            "(the next apply or prune deletes it)", self.result("nothing", state),
        )

    async def _save_quietly(self, state: MigrationState) -> None:
        try:
            await self.store.write(state)
        except Exception:  # the original error is the one to report
            pass


async def _versions(client: AsyncElasticsearch, alias: str) -> list[tuple[str, int, bool]]:
    """The ``<alias>-v<N>`` indices that exist: name, version, whether any alias points to it; by version."""
    answer = await client.options(ignore_status=404).indices.get(
        index=f"{alias}-v*", expand_wildcards="all", allow_no_indices=True, features="aliases"
    )
    found: Mapping[str, Any] = answer.body if answer.meta.status == 200 else {}
    versions = [(name, version_of(name, alias), bool(body.get("aliases"))) for name, body in found.items()]
    return sorted(((name, v, aliased) for name, v, aliased in versions if v is not None), key=lambda item: item[1])


async def plan(document: type[AsyncDocument], using: UsingType | None = None, *, state_index: str = STATE_INDEX) -> Plan:
    """What :func:`apply` would do now; nothing is written (the state index is not created).

    Raises:
        NoIndexError: the class has no ``Index.name``.
    """
    client = get_client(using if using is not None else options_of(document).using)
    drift = await detect_drift(document, client)
    state = await StateStore(client, state_index, drift.alias).read()
    if state is not None and state.phase in _UNFINISHED:
        return Plan(drift, "resume", state.from_index, state.to_index, state.phase)
    if drift.outcome == "none":
        return Plan(drift, "nothing", drift.index, None)
    if drift.outcome in ("missing", "in_place"):
        return Plan(drift, "init", drift.index, drift.index)
    if not options_of(document).versioned or drift.index in (None, drift.alias):
        return Plan(drift, "adopt", drift.index, None)
    newest = max((version for _, version, _ in await _versions(client, drift.alias)), default=0)
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
    """
    options = _Options(
        transform=transform, accept_invalid=accept_invalid, page_size=page_size, concurrency=concurrency,
        on_progress=on_progress, lease_seconds=lease_seconds, wait=wait, state_index=state_index,
    )
    run = _Run(document, using, options)
    return await run.locked(run.apply)


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
    options = _Options(
        transform=transform, page_size=page_size, concurrency=concurrency, on_progress=on_progress,
        lease_seconds=lease_seconds, wait=wait, force=force, state_index=state_index,
    )
    run = _Run(document, using, options)
    return await run.locked(run.resume)


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
    options = _Options(
        transform=transform, page_size=page_size, concurrency=concurrency, on_progress=on_progress,
        lease_seconds=lease_seconds, wait=wait, state_index=state_index,
    )
    run = _Run(document, using, options)
    return await run.locked(lambda: run.rollback(previous))


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

    Returns:
        The deleted indices.
    """
    if keep < 0:
        raise ValueError(f"keep must be 0 or more, not {keep}")
    run = _Run(document, using, _Options(lease_seconds=lease_seconds, wait=wait, state_index=state_index))
    deleted: list[str] = []

    async def step() -> MigrationResult:
        state = await run.store.read()
        if state is not None and state.phase in _UNFINISHED:
            raise MigrationStateError(run.alias, f"a migration stopped at phase {state.phase!r}: resume it first")
        live = set(await indices_behind(run.alias, run.client))
        unused = [name for name, _, aliased in await _versions(run.client, run.alias) if name not in live and not aliased]
        failed = state.to_index if state is not None and state.phase == "failed" and state.to_index in unused else None
        older = [name for name in reversed(unused) if name != failed]  # newest first
        doomed = ([failed] if failed else []) + older[keep:]
        for name in doomed:
            await run.client.indices.delete(index=name)
            deleted.append(name)
        return run.result("nothing")

    await run.locked(step)
    return deleted
