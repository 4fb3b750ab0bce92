"""``AsyncIndex``, ``AsyncMapping`` and index templates: elasticsearch.dsl's, fed by document classes.

Settings, aliases, analysis and the API calls (``refresh``, ``put_settings``, ...)
are elasticsearch.dsl's; this class adds documents as the source of the mapping,
typed search, client lookup through ``odm.async_connections`` with the index name
checked before every request, and a ``save()`` that refuses incompatible mapping
changes before it sends anything. ``AsyncMapping`` is the live mapping (read from and
saved to an index); the templates give new indices a definition. They live together
because each is built from, and saves through, the others. The requests about an
existing index (create, delete, reads, aliases) are ``_calls.IndexCalls``', the base
class of ``AsyncIndex``: they need none of the three.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar as PlainTypeVar, cast

from elastic_transport import ObjectApiResponse
from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl import AsyncComposableIndexTemplate as DslAsyncComposableIndexTemplate
from elasticsearch.dsl import AsyncIndex as DslAsyncIndex
from elasticsearch.dsl import AsyncIndexTemplate as DslAsyncIndexTemplate
from elasticsearch.dsl import AsyncMapping as DslAsyncMapping
from elasticsearch.dsl.mapping_base import MappingBase
from pydantic import BaseModel
from typing_extensions import Self, TypeVar

from .._core.document_options import is_document_class, options_of
from .._core.mapping_diff import MappingDiff, diff_mappings
from .._core.names import check_index_name, check_index_pattern, check_write_index
from .._core.retry import RetryPolicy
from .._core.settings_diff import diff_settings
from .._sending import checked_policy, send
from ..connections import UsingType, get_client
from ..errors import ArgumentError, InvalidIndexNameError, MappingConflictError, NoIndexError
from ..fields import live_field
from ..mapping import mapping_for
from ..search._search import AsyncSearch
from ..update_by_query import AsyncUpdateByQuery
from ._calls import IndexCalls, send_delete

__all__ = ["AsyncComposableIndexTemplate", "AsyncIndex", "AsyncIndexTemplate", "AsyncMapping"]

T = TypeVar("T", default=Any)
D = TypeVar("D", bound=type)
R = PlainTypeVar("R")


class AsyncMapping(DslAsyncMapping):
    """A mapping: fields and mapping-level options (``dynamic``, ``_source``, ...).

    Example::

        live = await AsyncMapping.from_es("posts")
        diff = AsyncMapping.from_document(Post).diff(live)
        print(diff.added, diff.conflicts)
    """

    @classmethod
    def from_document(cls, document: type[BaseModel]) -> Self:
        """The mapping of a document class (or any pydantic model), as ``init()`` would send it.

        The result is a copy: changing it leaves the class alone.

        Raises:
            MappingError: a field of a plain model cannot be mapped.
        """
        source = options_of(document).mapping if is_document_class(document) else mapping_for(document)
        mapping = cls()
        mapping.properties = copy.deepcopy(source.properties)
        mapping._meta = copy.deepcopy(source._meta)
        return mapping

    def _update_from_dict(self, raw: dict[str, Any]) -> None:
        # A live mapping's fields as odm's classes (isinstance(m["date"], odm.Date)), not elasticsearch.dsl's.
        properties = raw.get("properties", {})
        super()._update_from_dict({**raw, "properties": {name: live_field(spec) for name, spec in properties.items()}})

    def _clone(self) -> Self:
        # elasticsearch.dsl copies only the fields: a cloned index definition lost its _meta and dynamic
        clone = super()._clone()
        clone._meta = copy.deepcopy(self._meta)
        return clone

    @classmethod
    async def from_es(cls, index: str | list[str] | None, using: UsingType = "default") -> Self:
        """The live mapping of ``index`` (a name, alias or pattern; of several indices, one of them)."""
        mapping = cls()
        await mapping.update_from_es(index, using)
        return mapping

    async def update_from_es(self, index: str | list[str] | None, using: UsingType = "default") -> None:
        """Add the fields and options of the live mapping of ``index`` to this one.

        Raises:
            InvalidIndexNameError: ``index`` is not a valid index name or pattern.
            elasticsearch.NotFoundError: no such index.
        """
        names = check_index_pattern(index) if index is not None else None
        raw = await send(get_client(using), lambda quiet: quiet.indices.get_mapping(index=names))
        _, live = raw.body.popitem()
        self._update_from_dict(live["mappings"])

    async def save(self, index: str, using: UsingType = "default") -> None:
        """Create ``index`` with this mapping, or add its new fields to the live one.

        Analyzers the fields use go into the index settings.

        Raises:
            MappingConflictError: a field's type or fixed parameter differs from the live
                index; nothing was sent.
        """
        definition: AsyncIndex[Any] = AsyncIndex(check_index_name(index), using=using)
        definition.mapping(self)
        await definition.save()

    def diff(self, live: MappingBase | Mapping[str, Any]) -> MappingDiff:
        """What this mapping adds to ``live``, changes in it, and where it conflicts with it.

        Args:
            live: a mapping, or a ``mappings`` body as ``get_mapping`` returns it.
        """
        other = live.to_dict() if isinstance(live, MappingBase) else live
        return diff_mappings(self.to_dict(), other)


class AsyncIndex(IndexCalls, Generic[T]):
    """An index definition: name, settings, aliases, analysis and the documents it holds.

    ``T`` is what its :meth:`search` yields; name it when the index holds documents::

        blog = AsyncIndex[Post]("blog").settings(number_of_shards=1)
        blog.document(Post)
        await blog.save()
        async for post in blog.search():  # post: Post
            ...
    """

    def __init__(self, name: str, using: UsingType = "default", *, allow_dot_prefix: bool = False) -> None:
        """Define an index; nothing is sent until an async call.

        Args:
            name: the index (or, for the API calls, an alias of one index); checked
                against Elasticsearch's naming rules before every request.
            using: connection alias or client.
            allow_dot_prefix: :meth:`create` and :meth:`save` may create a name that starts
                with ``.`` (system and hidden indices' names; refused otherwise). A document
                class with ``Index.allow_dot_prefix = True`` allows it too.
        """
        super().__init__(name, using=using)
        self._mapping_class = AsyncMapping
        self._documents: list[type[BaseModel]] = []
        self._allow_dot_prefix = allow_dot_prefix
        self._retry: RetryPolicy | None = None

    if TYPE_CHECKING:

        def get_or_create_mapping(self) -> AsyncMapping: ...

    def document(self, document: D) -> D:
        """Register a document class: its mapping, ``Index`` settings, aliases and analyzers.

        Settings and aliases given to the index itself win over the document's.
        Usable as a class decorator; elasticsearch.dsl ``Document`` classes work too.
        """
        if not is_document_class(document):
            return cast(D, super().document(cast(Any, document)))
        options = options_of(document)
        self._documents.append(document)
        self._allow_dot_prefix = self._allow_dot_prefix or options.allow_dot_prefix
        self.mapping(options.mapping)
        self._settings = {**options.settings, **self._settings}
        self._aliases = {**options.aliases, **self._aliases}
        for analyzer in options.analyzers:
            self.analyzer(analyzer)
        return document  # type: ignore[return-value]

    def clone(self, name: str | None = None, using: UsingType | None = None) -> AsyncIndex[T]:
        """A copy with another name or connection, keeping settings, mapping and documents."""
        copy = super().clone(name, using)
        copy._documents = self._documents[:]
        copy._allow_dot_prefix = self._allow_dot_prefix
        copy._retry = self._retry
        return copy

    def retry(self, policy: RetryPolicy) -> Self:
        """A copy whose requests odm re-sends under ``policy`` (else the connection's policy).

        Every request of :meth:`save` (and so of ``init()``), :meth:`create`, :meth:`delete`,
        :meth:`exists` and the other index calls (``IndexCalls``); see docs/reliability.md for what
        each means after a lost answer. ``retry(NO_RETRIES)`` sends each request once.

        Raises:
            ArgumentError: not a ``RetryPolicy``.
        """
        checked = checked_policy(policy, "retry()")
        copy = self.clone()
        copy._retry = checked
        return cast(Self, copy)

    def to_dict(self) -> dict[str, Any]:
        """The body of the create-index request: settings with analysis, aliases, mappings.

        Analysis given in ``settings`` is merged with the analyzers the fields use.

        Raises:
            ValueError: one analyzer name defined two different ways.
        """
        settings, self._settings = self._settings, dict(self._settings)
        explicit = self._settings.pop("analysis", None)
        try:
            body = super().to_dict()  # it writes "analysis" into the settings dict it is given
        finally:
            self._settings = settings
        if explicit:
            collected = body.setdefault("settings", {}).setdefault("analysis", {})
            for section, entries in explicit.items():
                known = collected.setdefault(section, {})
                for name, definition in entries.items():
                    if known.setdefault(name, definition) != definition:
                        raise ArgumentError(
                            f"index {self._name!r}: analysis.{section}.{name} is defined as {definition!r} "
                            f"in the settings and as {known[name]!r} by a field or analyzer()"
                        )
        return body

    def search(self, using: UsingType | None = None) -> AsyncSearch[T]:  # type: ignore[override]
        """A search over this index whose hits are its registered documents (``T``)."""
        documents: Any = self._documents or None
        return AsyncSearch(using=using or self._using, index=self._name, doc_type=documents)

    def updateByQuery(self, using: UsingType | None = None) -> AsyncUpdateByQuery[T]:  # type: ignore[override]  # noqa: N802
        """An update by query over this index, typed by its registered document."""
        doc_type: Any = self._documents[0] if len(self._documents) == 1 else None
        return AsyncUpdateByQuery(using=using or self._using, index=self._name, doc_type=doc_type)

    def as_template(
        self, template_name: str, pattern: str | None = None, order: int | None = None
    ) -> AsyncIndexTemplate:
        """A legacy index template with this definition, for ``pattern`` (default: the name).

        Elasticsearch deprecates legacy templates; prefer :meth:`as_composable_template`.
        """
        return AsyncIndexTemplate(template_name, pattern or self._name, index=self, order=order)

    def as_composable_template(
        self, template_name: str, pattern: str | None = None, priority: int | None = None
    ) -> AsyncComposableIndexTemplate:
        """A composable index template with this definition, for ``pattern`` (default: the name).

        Every new index whose name matches gets these settings, aliases and mappings.
        """
        return AsyncComposableIndexTemplate(template_name, pattern or self._name, index=self, priority=priority)

    # -- save --------------------------------------------------------------------

    async def save(self, using: UsingType | None = None) -> None:
        """Create the index, or bring an existing one up to date with compatible changes.

        New fields are added with ``put_mapping`` and changed dynamic settings with
        ``put_settings``; changed analysis is applied only while the index is closed.
        The mapping's ``_meta`` is merged into the live one: keys set by others are kept.
        A changed field type or fixed parameter, a changed static setting or analysis on
        an open index is a conflict: nothing is sent. For a data stream
        (``data_stream(True)``) its composable template ``<name>-template`` is saved
        and the data stream created if it does not exist.

        Raises:
            MappingConflictError: listing every conflicting field and setting.
            InvalidIndexNameError: a name that starts with ``.`` without ``allow_dot_prefix``.
        """
        client = self._get_connection(using)
        check_write_index(self._name, self._allow_dot_prefix)
        if self._data_stream:
            await self.as_composable_template(f"{self._name}-template", self._name).save(using=using or self._using)
            if not await self.exists(using=client):
                await self._create_or_find(client)
            return
        body = self.to_dict()
        if not await self.exists(using=client) and await self._create_or_find(client, body):
            return
        live = next(iter((await self.get(using=client)).body.values()))
        wanted_mapping, live_mapping = body.get("mappings", {}), live.get("mappings", {})
        if "_meta" in wanted_mapping:  # put_mapping replaces _meta whole: keep the keys others set
            wanted_mapping = {**wanted_mapping, "_meta": {**live_mapping.get("_meta", {}), **wanted_mapping["_meta"]}}
        diff = diff_mappings(wanted_mapping, live_mapping)
        if diff.unchecked:
            defaults = await self._field_defaults(client, diff.unchecked)
            diff = diff_mappings(wanted_mapping, live_mapping, defaults)
        closed = "analysis" in body.get("settings", {}) and await self.is_closed(using=using)
        settings_update, setting_conflicts = diff_settings(
            body.get("settings", {}), live.get("settings", {}).get("index", {}), closed=closed
        )
        conflicts = diff.conflicts + setting_conflicts
        if conflicts:
            raise MappingConflictError(self._name, conflicts)
        if settings_update:
            await self.put_settings(using=client, settings=settings_update)
        if diff.needs_update:
            await self.put_mapping(using=client, **wanted_mapping)

def _checked(name: str, pattern: str, index: AsyncIndex[Any] | None, using: UsingType) -> AsyncIndex[Any]:
    """Check the template name and pattern; the index definition the template is made of."""
    try:
        check_index_name(name)
    except InvalidIndexNameError as error:
        raise InvalidIndexNameError(f"template name {name!r} is not allowed: {error}") from error
    check_index_pattern(pattern, lower_case=True)  # templates match index names, which are lower case
    return index if index is not None else AsyncIndex(pattern, using=using)


def _policy_of(index: DslAsyncIndex) -> RetryPolicy | None:
    """The policy of a template's index definition (``AsyncIndex.retry()``); ``None``: the connection's."""
    return index._retry if isinstance(index, AsyncIndex) else None


async def _send_template(
    index: DslAsyncIndex, using: UsingType | None, request: Callable[[AsyncElasticsearch], Awaitable[R]]
) -> R:
    """A template request, under the policy of the template's index definition."""
    return await send(get_client(using or index._using), request, _policy_of(index))


async def _delete_template(
    index: DslAsyncIndex, using: UsingType | None, request: Callable[[AsyncElasticsearch], Awaitable[ObjectApiResponse[Any]]]
) -> ObjectApiResponse[Any]:
    """Delete a template; a re-send after a lost answer that finds none (404) has deleted it: its answer is returned."""
    return await send_delete(get_client(using or index._using), request, _policy_of(index))


class AsyncComposableIndexTemplate(DslAsyncComposableIndexTemplate):
    """A composable index template (``PUT _index_template/<name>``).

    Attribute access is passed on to its index definition, as in elasticsearch.dsl
    (``template.settings(...)``, ``template.document(Post)``).

    Example::

        template = AsyncComposableIndexTemplate("logs", "logs-*", priority=10)
        template.document(Log)
        await template.save()
    """

    def __init__(
        self,
        name: str,
        template: str,
        index: AsyncIndex[Any] | None = None,
        priority: int | None = None,
        using: UsingType = "default",
    ) -> None:
        """Define a template; nothing is sent until :meth:`save`.

        Args:
            name: the template's name.
            template: the index pattern it applies to (``"posts-*"``).
            index: the definition to copy settings, aliases and mappings from.
            priority: the highest priority wins among templates matching one index.
            using: connection alias or client, when no ``index`` is given.

        Raises:
            InvalidIndexNameError: an invalid name or pattern.
        """
        super().__init__(name, template, index=_checked(name, template, index, using), priority=priority)

    async def save(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Create or replace the template; indices created afterwards use it (re-sent under the index's policy)."""
        request = self.to_dict()
        return await _send_template(
            self._index, using, lambda quiet: quiet.indices.put_index_template(name=self._template_name, **request)
        )

    async def exists(self, using: UsingType | None = None) -> bool:
        """Whether a composable template of this name exists."""
        exists = await _send_template(self._index, using, lambda quiet: quiet.indices.exists_index_template(name=self._template_name))
        return bool(exists)

    async def delete(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Delete the template; indices it already shaped keep their settings and mappings."""
        return await _delete_template(self._index, using, lambda quiet: quiet.indices.delete_index_template(name=self._template_name))


class AsyncIndexTemplate(DslAsyncIndexTemplate):
    """A legacy index template (``PUT _template/<name>``), as in elasticsearch-dsl.

    Elasticsearch 9 deprecates these: saving one emits an ``ElasticsearchWarning``.
    Use :class:`AsyncComposableIndexTemplate` for new code.
    """

    def __init__(
        self,
        name: str,
        template: str,
        index: AsyncIndex[Any] | None = None,
        order: int | None = None,
        using: UsingType = "default",
    ) -> None:
        """Define a legacy template; see :class:`AsyncComposableIndexTemplate` for the arguments.

        Args:
            order: templates with a higher order are applied later, overriding lower ones.
        """
        super().__init__(name, template, index=_checked(name, template, index, using), order=order)

    async def save(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Create or replace the template; indices created afterwards use it (re-sent under the index's policy)."""
        request = self.to_dict()
        return await _send_template(
            self._index, using, lambda quiet: quiet.indices.put_template(name=self._template_name, body=request)
        )

    async def exists(self, using: UsingType | None = None) -> bool:
        """Whether a legacy template of this name exists."""
        exists = await _send_template(self._index, using, lambda quiet: quiet.indices.exists_template(name=self._template_name))
        return bool(exists)

    async def delete(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Delete the template; indices it already shaped keep their settings and mappings."""
        return await _delete_template(self._index, using, lambda quiet: quiet.indices.delete_template(name=self._template_name))


def template_for(
    document: type[BaseModel], name: str, pattern: str | None = None, priority: int | None = None
) -> AsyncComposableIndexTemplate:
    """The composable template that gives new indices the mapping, settings and aliases of ``document``.

    Args:
        name: the template's name.
        pattern: the indices it applies to; by default ``Index.name`` if that is a
            pattern, else ``<Index.name>-*`` (the date-based indices whose hits odm
            reads back as ``document``).
        priority: the highest priority wins among templates matching one index.

    Raises:
        NoIndexError: no ``pattern`` and the document has no ``Index.name``.
    """
    options = options_of(document)
    if pattern is None:
        if options.name is None:
            raise NoIndexError(f"{document.__name__} has no Index.name; pass pattern=...")
        pattern = options.name if "*" in options.name else f"{options.name}-*"
    definition: AsyncIndex[Any] = AsyncIndex(pattern, using=options.using)
    definition.document(document)
    return AsyncComposableIndexTemplate(name, pattern, index=definition, priority=priority)
