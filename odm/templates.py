"""Index templates built from index definitions and documents, saved through odm's connections.

A composable template makes every new index whose name matches its pattern start
with the settings, aliases and mapping of a document, so that
``post.save(index="posts-2026-11")`` creates a correctly mapped index on its own::

    await Post.as_template("posts").save()
    await post.save(index="posts-2026-11")  # the index is created from the template

The bodies are elasticsearch.dsl's (``to_dict()``); names and patterns are checked
before any request.
"""

from __future__ import annotations

from typing import Any

from elastic_transport import ObjectApiResponse
from elasticsearch.dsl import AsyncComposableIndexTemplate as DslAsyncComposableIndexTemplate
from elasticsearch.dsl import AsyncIndexTemplate as DslAsyncIndexTemplate
from ._names import check_index_name, check_index_pattern
from .connections import UsingType, get_client
from .document import AsyncDocument
from .errors import InvalidIndexNameError
from .index import AsyncIndex

__all__ = ["AsyncComposableIndexTemplate", "AsyncIndexTemplate"]


def _checked(name: str, pattern: str, index: AsyncIndex[Any] | None, using: UsingType) -> AsyncIndex[Any]:
    """Check the template name and pattern; the index definition the template is made of."""
    try:
        check_index_name(name)
    except InvalidIndexNameError as error:
        raise InvalidIndexNameError(f"template name {name!r} is not allowed: {error}") from error
    check_index_pattern(pattern)
    return index if index is not None else AsyncIndex(pattern, using=using)


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
        """Create or replace the template; indices created afterwards use it."""
        client = get_client(using or self._index._using)
        return await client.indices.put_index_template(name=self._template_name, **self.to_dict())

    async def exists(self, using: UsingType | None = None) -> bool:
        """Whether a composable template of this name exists."""
        client = get_client(using or self._index._using)
        return bool(await client.indices.exists_index_template(name=self._template_name))

    async def delete(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Delete the template; indices it already shaped keep their settings and mappings."""
        client = get_client(using or self._index._using)
        return await client.indices.delete_index_template(name=self._template_name)


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
        """Create or replace the template; indices created afterwards use it."""
        client = get_client(using or self._index._using)
        return await client.indices.put_template(name=self._template_name, body=self.to_dict())

    async def exists(self, using: UsingType | None = None) -> bool:
        """Whether a legacy template of this name exists."""
        client = get_client(using or self._index._using)
        return bool(await client.indices.exists_template(name=self._template_name))

    async def delete(self, using: UsingType | None = None) -> ObjectApiResponse[Any]:
        """Delete the template; indices it already shaped keep their settings and mappings."""
        client = get_client(using or self._index._using)
        return await client.indices.delete_template(name=self._template_name)


def template_for(
    document: type[AsyncDocument], name: str, pattern: str | None = None, priority: int | None = None
) -> AsyncComposableIndexTemplate:
    """The composable template that gives new indices the mapping, settings and aliases of ``document``.

    Args:
        name: the template's name.
        pattern: the indices it applies to; by default ``Index.name`` if that is a
            pattern, else ``<Index.name>-*`` (the date-based indices whose hits odm
            reads back as ``document``).
        priority: the highest priority wins among templates matching one index.

    Raises:
        LookupError: no ``pattern`` and the document has no ``Index.name``.
    """
    options = document.__odm__
    if pattern is None:
        if options.name is None:
            raise LookupError(f"{document.__name__} has no Index.name; pass pattern=...")
        pattern = options.name if "*" in options.name else f"{options.name}-*"
    definition: AsyncIndex[Any] = AsyncIndex(pattern, using=options.using)
    definition.document(document)
    return AsyncComposableIndexTemplate(name, pattern, index=definition, priority=priority)
