"""``AsyncMapping``: elasticsearch.dsl's mapping, read from and saved to the live index.

Building and merging fields is elasticsearch.dsl's; this class adds the model as a
source (:meth:`AsyncMapping.from_document`), client lookup through
``odm.async_connections``, a ``save()`` that refuses incompatible changes before it
sends anything, and :meth:`AsyncMapping.diff` against a live mapping.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from elasticsearch.dsl import AsyncMapping as DslAsyncMapping
from elasticsearch.dsl.mapping_base import MappingBase
from pydantic import BaseModel
from typing_extensions import Self

from ._mapping_diff import MappingDiff, diff_mappings
from ._names import check_index_name, check_index_pattern
from .connections import UsingType, get_client

__all__ = ["AsyncMapping"]


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
        options = getattr(document, "__odm__", None)
        if options is None:
            from .mapping import mapping_for  # mapping.py imports this module

            source: MappingBase = mapping_for(document)
        else:
            source = options.mapping
        mapping = cls()
        mapping.properties = copy.deepcopy(source.properties)
        mapping._meta = copy.deepcopy(source._meta)
        return mapping

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
        raw = await get_client(using).indices.get_mapping(index=names)
        _, live = raw.body.popitem()
        self._update_from_dict(live["mappings"])

    async def save(self, index: str, using: UsingType = "default") -> None:
        """Create ``index`` with this mapping, or add its new fields to the live one.

        Analyzers the fields use go into the index settings.

        Raises:
            MappingConflictError: a field's type or fixed parameter differs from the live
                index; nothing was sent.
        """
        from .index import AsyncIndex  # index.py imports this module

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
