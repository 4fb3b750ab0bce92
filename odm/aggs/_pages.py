"""Adding a declared class's aggregations to a search, and paging a composite aggregation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from elasticsearch.dsl.search_base import SearchBase

from ..errors import ArgumentError
from ._buckets import Composite
from ._declared import Aggs

__all__ = ["add_aggregations", "composite_of", "with_after"]

S = TypeVar("S", bound=SearchBase[Any])


def add_aggregations(search: S, aggregations: type[Aggs]) -> S:
    """A copy of ``search`` with ``aggregations``' definitions added as dsl aggregations.

    Raises:
        ArgumentError: not an ``Aggs`` class, or a name the search already aggregates on.
    """
    if not (isinstance(aggregations, type) and issubclass(aggregations, Aggs)):
        raise ArgumentError(f"aggregate() takes an Aggs class, not {aggregations!r}")
    copy = search._clone()
    for name, agg in aggregations.requests().items():
        if name in copy.aggs:
            raise ArgumentError(f"the search already has an aggregation named {name!r} ({aggregations.__name__}.{name})")
        copy.aggs.bucket(name, agg)
    return copy


def composite_of(aggregations: type[Aggs]) -> tuple[str, Composite[Any, Any]]:
    """The one top-level :class:`Composite` of ``aggregations``, by name.

    Raises:
        ArgumentError: the class has none, or several (which one to page would be a guess).
    """
    found = [(name, d) for name, d in aggregations.__definitions__.items() if isinstance(d, Composite)]
    if len(found) != 1:
        raise ArgumentError(
            f"composite_pages() needs exactly one Composite aggregation in {aggregations.__name__}, "
            f"it has {len(found)}"
        )
    return found[0]


def with_after(search: S, name: str, composite: Composite[Any, Any], after: Mapping[str, Any]) -> S:
    """A copy of ``search`` asking for the composite page after ``after`` (a raw ``after_key``)."""
    copy = search._clone()
    copy.aggs[name] = composite.request(after=after)
    return copy
