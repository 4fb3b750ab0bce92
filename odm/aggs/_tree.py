"""How mypy reads ``s.aggs["a"]["b"].metric(...)``, elasticsearch.dsl's untyped aggregation tree.

elasticsearch.dsl types ``s.aggs["a"]`` as ``Agg``, which has neither ``[...]`` nor
``.metric()``, so the chain that runs fine (on the elasticsearch-dsl pages) fails mypy
with ``Value of type "Agg[...]" is not indexable``. ``AsyncSearch.aggs`` is declared, for
mypy only, as the proxy below: indexing it by name gives a bucket aggregation, which can
be indexed again. (Indexing a metric aggregation by a sub-aggregation's name raises
``TypeError`` at run time, as it does with elasticsearch.dsl.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from elasticsearch.dsl.aggs import Bucket
from elasticsearch.dsl.search_base import AggsProxy
from typing_extensions import TypeVar

__all__ = ["AggsTree", "BucketTree"]

_R = TypeVar("_R")

if TYPE_CHECKING:

    class BucketTree(Bucket[_R]):
        """A bucket aggregation whose sub-aggregations are reached by name."""

        def __getitem__(self, agg_name: str) -> BucketTree[_R]: ...

    class AggsTree(AggsProxy[_R]):
        """``AsyncSearch.aggs``: the search's aggregations by name."""

        def __getitem__(self, agg_name: str) -> BucketTree[_R]: ...
