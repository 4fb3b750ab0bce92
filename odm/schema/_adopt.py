"""``adopt``: move a concrete index behind an alias of its name, as ``<name>-v1``, under the migration lock.

Two adopts of one index at once (every instance of a service adopting at start-up) must
not interleave: the second would read the original's settings before the first blocks it,
fail its clone, and lift the first's write block while the first counts and switches, so a
write landing then would be deleted with the original. So ``adopt`` takes the migration
lock of the alias (:mod:`odm.schema._lock`, the lease the migrations take), and sends its
block and unblock through the owner's settings fences (:mod:`odm.schema._fence`); the switch
removes the copy's with ``must_exist``, so an owner that lost the lock cannot switch either. An adopt and a migration of the alias exclude each
other too. See docs/schema-drift.md and docs/migrations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from elasticsearch import AsyncElasticsearch

from .._core.names import check_index_name
from ..connections import UsingType
from ..errors import AdoptError, MigrationLockedError
from ._fence import Fence, is_fence
from ._lock import STATE_INDEX, Locked
from ._versioned import _behind, _client, versioned_name

if TYPE_CHECKING:
    from ..document import AsyncDocument

__all__ = ["adopt"]


async def adopt(
    document: type[AsyncDocument],
    using: UsingType | None = None,
    *,
    wait: float = 0,
    force: bool = False,
    lease_seconds: float = 60,
    state_index: str = STATE_INDEX,
) -> str:
    """Move the concrete index named ``Index.name`` behind an alias of that name, as ``<name>-v1``.

    Under the migration lock of the alias (the one ``apply``, ``resume`` and ``rollback``
    take), the index is write-blocked, cloned (segments are copied, no reindex), the copy's
    document count checked, then one ``_aliases`` call deletes the original and points
    the alias (and the original's other aliases) at the copy. Writes during adopt fail
    with the block; none is lost. If anything fails before the alias call, the block
    is lifted and the copy deleted. Adopting an alias already is a no-op (only reads are
    sent, no lock is taken): once one adopt has finished, every later one returns its index.

    Args:
        using: a connection alias or client; by default the class's ``Index.using``.
        wait: seconds to wait for another process's lock (another adopt, or a migration);
            an adopt that waited finds the alias made and does nothing.
        force: take over a live lock at once (its owner is known to be dead).
        lease_seconds: the lock's lease, renewed every third of it.
        state_index: the index holding migration states and locks (created if missing).

    Returns:
        The concrete index now behind the alias.

    Raises:
        AdoptError: nothing to adopt, ``<name>-v1`` exists already, or a step failed
            (the message says what was left as it was).
        MigrationLockedError: another process holds the lock of the alias (after ``wait``);
            nothing was changed.
    """
    client = _client(document, using)
    name = document.index_name()
    target = check_index_name(versioned_name(name, 1))
    lock = Locked(client, state_index, name, lease_seconds)
    behind = await _behind(client, name)
    if behind.is_alias:
        return behind.write or behind.indices[0]
    if not behind.indices:
        raise AdoptError(name, target, "no index of this name exists; init() creates a versioned index")

    async def locked() -> str:
        now = await _behind(client, name)  # read again: another process may have adopted it meanwhile
        if now.is_alias:
            return now.write or now.indices[0]
        if not now.indices:
            raise AdoptError(name, target, "no index of this name exists (any more); nothing was changed")
        if await client.indices.exists(index=target):
            raise AdoptError(name, target, f"{target!r} exists already; nothing was changed")
        return await _Adoption(client, name, target, lock.fence).run()

    try:
        return await lock.run(locked, wait, force)
    except MigrationLockedError as error:
        if lock.lease.generation is not None:  # held, then lost: the step said what it left
            raise
        raise MigrationLockedError(
            name, error.owner, error.expires_at, f"adopt refused: {error.owner} holds the migration lock of this alias "
            f"(another adopt, or a migration); nothing was changed. Run adopt again once it is released "
            "(wait= waits for it; then the alias exists and adopt does nothing)",
        ) from error


class _Adoption:
    """The steps of :func:`adopt`, with what each leaves behind to undo if a later one fails.

    Blocks and settings go through ``fence``, the lock owner's: after a takeover Elasticsearch
    refuses them, so a process that lost the lock cannot lift a newer owner's block.
    """

    def __init__(self, client: AsyncElasticsearch, name: str, target: str, fence: Fence) -> None:
        self.client, self.name, self.target, self.fence = client, name, target, fence
        self.cloned = False  # the clone call answered: the target is ours to delete

    async def run(self) -> str:
        client, name, target = self.client, self.name, self.target
        settings = (await client.indices.get_settings(index=name, flat_settings=True)).body[name]["settings"]
        blocked = settings.get("index.blocks.write")  # restored on the original if adopt fails, kept on the copy
        aliases = (await client.indices.get_alias(index=name)).body[name]["aliases"]
        try:
            await self.fence.block(name)  # waits for writes in flight
            await self._copy(settings)
        except BaseException as error:  # cancelled too: the original must not stay blocked
            undone = await self._undo(blocked)
            if not isinstance(error, Exception):
                raise
            raise AdoptError(name, target, f"{_described(error)}; {undone}") from error
        # The copy's settings fence goes with the switch, with must_exist: once a newer owner took the lock
        # over (and removed this owner's fences) the switch is refused as a whole and deletes nothing.
        await self.fence.on(target)
        actions: list[Mapping[str, Any]] = [
            *self.fence.settings_removal(target),
            {"remove_index": {"index": name}},
            {"add": {"index": target, "alias": name, "is_write_index": True}},
            *({"add": {"index": target, "alias": alias, **spec}} for alias, spec in aliases.items()
              if not is_fence(alias, name)),
        ]
        try:
            await client.indices.update_aliases(actions=actions)
        except Exception as error:
            if not await self._switched(error):
                undone = await self._undo(blocked)
                raise AdoptError(name, target, f"the alias switch failed ({_described(error)}); {undone}") from error
        self.fence.settings_removed(target)
        self.fence.settings_removed(name)  # it went with the original
        try:
            await self.fence.put_settings(target, {"index.blocks.write": blocked})
        except Exception as error:
            raise AdoptError(
                name, target, f"adopted, but the write block on {target!r} could not be set back to {blocked!r} "
                f"({_described(error)}); writes through {name!r} fail until it is (PUT /{target}/_settings)"
            ) from error
        return target

    async def _copy(self, settings: dict[str, Any]) -> None:
        """Clone the (now blocked) original, wait for the copy, and check it holds as many documents."""
        client, name, target = self.client, self.name, self.target
        await client.indices.refresh(index=name)
        replicas = {  # the only settings clone does not copy
            key: settings[key]
            for key in ("index.number_of_replicas", "index.auto_expand_replicas")
            if settings.get(key) is not None
        }
        await client.indices.clone(index=name, target=target, settings=replicas)
        self.cloned = True
        health = await client.cluster.health(index=target, wait_for_status="yellow", timeout="60s")
        if health.body.get("timed_out"):
            raise AdoptError(name, target, f"{target!r} did not become available within 60 s")
        await client.indices.refresh(index=target)
        before = (await client.count(index=name))["count"]
        after = (await client.count(index=target))["count"]
        if before != after:
            raise AdoptError(name, target, f"the copy holds {after} documents, the original {before}")

    async def _switched(self, error: Exception) -> bool:
        """Whether the ``_aliases`` call that raised ``error`` was applied anyway (its answer lost)."""
        try:
            now = await _behind(self.client, self.name)
        except Exception as unknown:
            raise AdoptError(
                self.name, self.target, f"the alias switch failed ({_described(error)}) and the indices cannot be "
                f"read ({_described(unknown)}): "
                f"if {self.name!r} is now an alias of {self.target!r}, lift the copy's write block; otherwise "
                f"lift the original's; nothing was deleted but by that call"
            ) from error
        return now.is_alias and self.target in now.indices

    async def _undo(self, blocked: Any) -> str:
        """Lift the write block from the original (through the fence) and delete the copy; says what was done."""
        client, name, target = self.client, self.name, self.target
        done = []
        try:
            await self.fence.put_settings(name, {"index.blocks.write": blocked})
            done.append(f"{name!r} is writable again" if blocked in (None, "false") else f"{name!r} keeps its block")
        except Exception as error:  # reported; the error that stopped adopt is raised
            done.append(f"lifting the write block on {name!r} failed too ({error}): PUT /{name}/_settings")
        if self.cloned:
            try:
                await client.indices.delete(index=target)
                done.append(f"the copy {target!r} was deleted")
            except Exception as error:
                done.append(f"deleting the copy {target!r} failed too ({error})")
        elif await _exists_quietly(client, target):
            done.append(f"{target!r} exists, but odm's clone call failed, so odm left it alone: check it")
        return f"{'; '.join(done)}; the original {name!r} keeps every document"


def _described(error: Exception) -> str:
    return error.detail if isinstance(error, AdoptError) else f"{type(error).__name__}: {error}"


async def _exists_quietly(client: AsyncElasticsearch, index: str) -> bool:
    try:
        return bool(await client.indices.exists(index=index))
    except Exception:  # only used to word an error message
        return False
