"""The fence of a migration: the alias its lock's owner writes through, which a takeover removes.

A lease is judged by clocks, so on its own it cannot stop a process that was paused (or
cut off) past its lease from writing when it wakes up. The fence is enforced by
Elasticsearch: each owner of the lock writes documents only through an alias of its own,
``<alias>-fence-<term>-<seq_no>`` (hidden), named for the lease it took (the primary term
and sequence number of that lease's write: every takeover's is higher), with
``require_alias=true`` on every bulk request. Before an owner writes, one ``_aliases``
call removes the fences of every older owner and adds its own, pointing at the index it
writes into; then it reads the lease document: it writes only if the lease is still its
own. A new owner removes every older owner's fence as soon as it takes the lease over,
before anything else; an older owner that adds its fence after that finds the lease
taken when it reads it, and drops its fence without writing. A process whose lease was
taken over finds its alias gone, and every document it sends is refused
(``index_not_found_exception``): nothing lands, in any index, and without the alias no
index of that name can be created by the write.

An owner that finds a newer owner's fence stops at once. The alias moves of a swap (and
of a rollback) remove the owner's own fence in the same ``_aliases`` call, with
``must_exist``: a process whose fence was taken cannot move the aliases either.

The settings calls of a migration (a write block added or lifted, the new index's
settings set back) go through the owner's fence too: one more alias per index concerned,
``<alias>-fence-<term>-<seq_no>-v<N>`` (``-x<digest>`` for an index not named
``<alias>-v<N>``), pointing at that index alone (a settings call through an alias applies
to every index behind it). It is taken like the write fence and removed with it by a
takeover, so Elasticsearch refuses a block or settings call of an owner whose lease was
taken over (``index_not_found_exception``): it says so with
:class:`~odm.errors.MigrationLockedError`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from ..errors import BulkItemError, MigrationLockedError
from ._versioned import version_of

__all__ = ["Fence", "fence_generation", "is_fence"]

_INFIX = "-fence-"
_ATTEMPTS = 5  # of the _aliases call that takes the fence, when a listed fence vanished meanwhile


def fence_generation(name: str, alias: str) -> tuple[int, int] | None:
    """The (primary term, seq_no) of the lease a fence alias of ``alias`` was named for (its write fence,
    or one of its settings fences); ``None``: not a fence."""
    prefix = alias + _INFIX
    if not name.startswith(prefix):
        return None
    term, _, rest = name[len(prefix):].partition("-")
    seq_no, dash, tag = rest.partition("-")
    if not (_digits(term) and _digits(seq_no)) or (dash and not _is_tag(tag)):
        return None
    return int(term), int(seq_no)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_tag(tag: str) -> bool:
    """Whether ``tag`` is what :func:`_tag` makes: ``v<N>`` or ``x`` and a 16-digit hex digest."""
    body = tag[1:]
    return (tag[:1] == "v" and _digits(body)) or (
        tag[:1] == "x" and len(body) == 16 and body.isascii() and all(c in "0123456789abcdef" for c in body)
    )


def _tag(index: str, alias: str) -> str:
    """What a settings fence's name says of its index: ``v<N>`` for ``<alias>-v<N>``, else a digest of
    the name (an alias name is at most 255 bytes: the index's own name may not fit)."""
    version = version_of(index, alias)
    if version is not None:
        return f"v{version}"
    return "x" + hashlib.blake2b(index.encode(), digest_size=8).hexdigest()


def is_fence(name: str, alias: str) -> bool:
    """Whether ``name`` is a fence alias of a migration of ``alias`` (never moved, never counted as an alias)."""
    return fence_generation(name, alias) is not None


class Fence:
    """The aliases one lock owner writes documents and sends settings calls through (see the module's text)."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        alias: str,
        generation: tuple[int, int],
        owner: str,
        held: Callable[[], Awaitable[bool]],
    ) -> None:
        self.client, self.alias, self.generation, self.owner = client, alias, generation, owner
        #: Whether this owner still holds the lease, as the lease document says (read, not judged by a clock).
        self.held = held
        self.name = f"{alias}{_INFIX}{generation[0]}-{generation[1]}"
        #: The index the fence points to, once taken.
        self.index: str | None = None
        #: The settings fences taken: index -> the alias pointing at it alone.
        self._settings: dict[str, str] = {}

    def lost(self, detail: str) -> MigrationLockedError:
        """The error of an owner whose fence was taken by a newer owner."""
        return MigrationLockedError(
            self.alias, self.owner, 0, f"lost the migration lock: {detail}; another process owns the migration now "
            "and nothing more was written by this one",
        )

    def refused(self, error: BaseException) -> bool:
        """Whether a bulk item's ``error`` is Elasticsearch refusing a write through this (removed) fence."""
        return (
            isinstance(error, BulkItemError) and error.status == 404 and error.type == "index_not_found_exception"
            and error.index == self.name
        )

    def _older(self, name: str) -> bool:
        return (fence_generation(name, self.alias) or (0, 0)) < self.generation

    async def _found(self) -> dict[str, list[str]]:
        """Every fence alias of this migration's alias: name -> the indices it points to."""
        try:
            answer: Mapping[str, Any] = (
                await self.client.indices.get_alias(name=f"{self.alias}{_INFIX}*", expand_wildcards="all")
            ).body
        except NotFoundError:
            return {}
        found: dict[str, list[str]] = {}
        for index, entry in answer.items():
            for name in entry.get("aliases", {}):
                if is_fence(name, self.alias):
                    found.setdefault(name, []).append(index)
        return found

    def _check_newest(self, found: Mapping[str, list[str]]) -> None:
        newer = sorted(name for name in found if (fence_generation(name, self.alias) or (0, 0)) > self.generation)
        if newer:
            raise self.lost(f"a newer owner's fence {newer[-1]} exists")

    async def take(self, index: str) -> str:
        """Point this owner's fence at ``index``, the older owners' fences removed; its name, to write through.

        Raises:
            MigrationLockedError: a newer owner's fence exists (this process lost the lock).
        """
        if self.index == index:
            return self.name
        await self._point(self.name, index)
        self.index = index
        await self._confirm()
        return self.name

    async def on(self, index: str) -> str:
        """The settings fence of ``index`` (taken like :meth:`take` the first time): the alias this owner
        sends ``index``'s settings calls through.

        Raises:
            MigrationLockedError: a newer owner's fence exists (this process lost the lock).
        """
        name = self._settings.get(index)
        if name is None:
            name = f"{self.name}-{_tag(index, self.alias)}"
            await self._point(name, index)
            self._settings[index] = name
            await self._confirm()
        return name

    async def _point(self, name: str, index: str) -> None:
        """One ``_aliases`` call: every older owner's fence removed, ``name`` (of this owner) moved to ``index``."""
        for attempt in range(_ATTEMPTS):
            found = await self._found()
            self._check_newest(found)
            actions: list[Mapping[str, Any]] = [
                {"remove": {"index": target, "alias": other, "must_exist": True}}
                for other, targets in sorted(found.items()) for target in targets
                if self._older(other) or (other == name and target != index)
            ]
            actions.append({"add": {"index": index, "alias": name, "is_hidden": True}})
            try:  # all or nothing: a fence listed above and dropped since by its owner fails the call
                await self.client.indices.update_aliases(actions=actions)
            except NotFoundError:
                if attempt + 1 == _ATTEMPTS:
                    raise
                continue
            return

    async def _confirm(self) -> None:
        """After a fence was added: the lease must still be this owner's, and no newer fence exist."""
        # Held the lease after the fence was added: a later owner takes the lease after this
        # point, and removes this fence (at its takeover) before it writes anything.
        if not await self.held():
            await self.drop()
            raise self.lost("the lease was taken over before its fence was in place")
        found = await self._found()
        try:
            self._check_newest(found)
        except MigrationLockedError:
            await self.drop()
            raise
        await self._remove(name for name in found if self._older(name))  # an older owner's, added meanwhile

    async def block(self, index: str) -> None:
        """Block writes on ``index`` (``PUT <its settings fence>/_block/write``: waits for writes in flight).

        Raises:
            MigrationLockedError: Elasticsearch refused it: a newer owner removed the fence.
        """
        await self._through(index, lambda name: self.client.indices.add_block(index=name, block="write"))

    async def put_settings(self, index: str, settings: Mapping[str, Any]) -> None:
        """Change ``index``'s settings through its settings fence.

        Raises:
            MigrationLockedError: Elasticsearch refused it: a newer owner removed the fence.
        """
        await self._through(index, lambda name: self.client.indices.put_settings(index=name, settings=settings))

    async def _through(self, index: str, call: Callable[[str], Awaitable[Any]]) -> None:
        """``call`` with the name of ``index``'s settings fence. Its 404 means the fence was removed by a
        newer owner (the lease is not this owner's any more), or the index itself was deleted (raised as is)."""
        name = await self.on(index)
        try:
            await call(name)
        except NotFoundError as error:
            if await self.held():
                raise
            raise self.lost(f"Elasticsearch refused a settings call through its fence {name}") from error

    async def remove_older(self) -> None:
        """Remove the fences of every older owner (at a takeover, before anything else is done)."""
        found = await self._found()
        await self._remove(name for name in found if self._older(name))

    async def _remove(self, names: Iterable[str]) -> None:
        listed = sorted(set(names))
        if not listed:
            return
        found = await self._found()
        for name in listed:
            for target in found.get(name, []):
                with contextlib.suppress(NotFoundError):  # dropped by its owner meanwhile
                    await self.client.indices.delete_alias(index=target, name=name)

    def removal(self) -> list[Mapping[str, Any]]:
        """The ``_aliases`` action that removes this fence, to send with the aliases of a swap: with
        ``must_exist``, so the swap fails as a whole when a newer owner removed it."""
        if self.index is None:
            return []
        return [{"remove": {"index": self.index, "alias": self.name, "must_exist": True}}]

    def removed(self) -> None:
        """The fence went with a swap's ``_aliases`` call."""
        self.index = None

    def settings_removal(self, index: str) -> list[Mapping[str, Any]]:
        """The ``_aliases`` action that removes the settings fence of ``index``, to send with the alias
        switch of adopt: with ``must_exist``, so the switch fails as a whole when a newer owner removed it."""
        name = self._settings.get(index)
        return [] if name is None else [{"remove": {"index": index, "alias": name, "must_exist": True}}]

    def settings_removed(self, index: str) -> None:
        """The settings fence of ``index`` went with an ``_aliases`` call (or with the index)."""
        self._settings.pop(index, None)

    async def exists(self) -> bool:
        """Whether this owner's fence is still there (not removed by a newer owner)."""
        return self.name in await self._found()

    async def drop(self) -> None:
        """Remove this owner's fences, the ones that still exist (the lock is released, or was lost)."""
        taken = ([(self.index, self.name)] if self.index is not None else []) + sorted(self._settings.items())
        for index, name in taken:
            with contextlib.suppress(NotFoundError):
                await self.client.indices.delete_alias(index=index, name=name)
        self.index, self._settings = None, {}
