"""``AsyncIndex``: elasticsearch.dsl's index definition, fed by ``AsyncDocument`` classes.

Settings, aliases, analysis and the API calls (``refresh``, ``put_settings``, ...)
are elasticsearch.dsl's; this class adds documents as the source of the mapping,
typed search, client lookup through ``odm.async_connections``, and a ``save()``
that refuses incompatible mapping changes before it sends anything.
"""

from __future__ import annotations

from typing import Any, TypeVar

from elasticsearch import AsyncElasticsearch, BadRequestError
from elasticsearch.dsl import AsyncIndex as DslAsyncIndex

from ._mapping_diff import diff_mappings
from .connections import UsingType, get_client
from .document import AsyncDocument
from .errors import MappingConflictError
from .search import AsyncSearch

__all__ = ["AsyncIndex"]

D = TypeVar("D", bound=AsyncDocument)

_STATIC_SETTINGS = frozenset({"number_of_shards", "index.number_of_shards", "codec", "routing_partition_size"})


class AsyncIndex(DslAsyncIndex):
    """An index definition: name, settings, aliases, analysis and the documents it holds.

    Example::

        blog = AsyncIndex("blog").settings(number_of_shards=1)
        blog.document(Post)
        await blog.save()
    """

    def __init__(self, name: str, using: UsingType = "default") -> None:
        super().__init__(name, using=using)
        self._documents: list[type[AsyncDocument]] = []

    def _get_connection(self, using: UsingType | None = None) -> AsyncElasticsearch:
        if self._name is None:
            raise ValueError("You cannot perform API calls on the default index.")
        return get_client(using or self._using)

    connection = property(_get_connection)

    def document(self, document: Any) -> Any:
        """Register a document class: its mapping, ``Index`` settings, aliases and analyzers.

        Usable as a class decorator; elasticsearch.dsl ``Document`` classes work too.
        """
        if not (isinstance(document, type) and issubclass(document, AsyncDocument)):
            return super().document(document)
        options = document.__odm__
        self._documents.append(document)
        self.mapping(options.mapping)
        self._settings = {**options.settings, **self._settings}
        self._aliases = {**options.aliases, **self._aliases}
        for analyzer in options.analyzers:
            self.analyzer(analyzer)
        return document

    def clone(self, name: str | None = None, using: UsingType | None = None) -> AsyncIndex:
        """A copy with another name or connection, keeping settings, mapping and documents."""
        copy = super().clone(name, using)
        copy._documents = self._documents[:]
        return copy

    def search(self, using: UsingType | None = None) -> AsyncSearch[Any]:  # type: ignore[override]
        """A search over this index whose hits are its registered documents."""
        return AsyncSearch(using=using or self._using, index=self._name, doc_type=self._documents or None)

    async def save(self, using: UsingType | None = None) -> None:
        """Create the index, or bring an existing one up to date with compatible changes.

        New fields are added with ``put_mapping`` and changed dynamic settings with
        ``put_settings``. A changed field type or fixed parameter, a changed static
        setting or analysis on an open index is a conflict: nothing is sent.

        Raises:
            MappingConflictError: listing every conflicting field and setting.
        """
        client = self._get_connection(using)
        body = self.to_dict()
        if not await client.indices.exists(index=self._name):
            try:
                await client.indices.create(index=self._name, **body)
                return
            except BadRequestError as error:
                if error.error != "resource_already_exists_exception":
                    raise
        live = (await client.indices.get(index=self._name)).body
        live_index = next(iter(live.values()))
        wanted_mapping = body.get("mappings", {})
        diff = diff_mappings(wanted_mapping, live_index.get("mappings", {}))
        settings_update, setting_conflicts = _diff_settings(
            body.get("settings", {}), live_index.get("settings", {}).get("index", {})
        )
        conflicts = diff.conflicts + setting_conflicts
        if conflicts:
            raise MappingConflictError(self._name, conflicts)
        if settings_update:
            await client.indices.put_settings(index=self._name, settings=settings_update)
        if diff.needs_update:
            await client.indices.put_mapping(index=self._name, **wanted_mapping)


def _diff_settings(wanted: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split wanted settings into dynamic ones to apply and conflicts that cannot be applied."""
    update: dict[str, Any] = {}
    conflicts: list[str] = []
    for key, value in wanted.items():
        bare = key.removeprefix("index.")
        if bare == "analysis":
            live_analysis = live.get("analysis", {})
            changed = [
                f"{section}.{name}"
                for section, entries in value.items()
                for name, definition in entries.items()
                if _normalise(live_analysis.get(section, {}).get(name)) != _normalise(definition)
            ]
            conflicts.extend(f"settings.analysis.{name}: differs from the open index" for name in changed)
            continue
        if _normalise(live.get(bare)) == _normalise(value):
            continue
        if key in _STATIC_SETTINGS or bare in _STATIC_SETTINGS:
            conflicts.append(f"settings.{bare}: the index has {live.get(bare)!r}, the model wants {value!r}")
        else:
            update[bare] = value
    return update, conflicts


def _normalise(value: Any) -> Any:
    """Live settings come back as strings: compare ``1`` with ``"1"`` and ``True`` with ``"true"``."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    return None if value is None else str(value)

