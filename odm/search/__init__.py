"""Reads: ``AsyncSearch[T]``, its ``Response[T]``, multi search, faceted search, and mget.

The public names are re-exported by ``odm``; the modules are private.
"""

from ._faceted import (
    AsyncFacetedSearch,
    DateHistogramFacet,
    FacetedResponse,
    Facets,
    FacetValue,
    HistogramFacet,
    NestedFacet,
    RangeFacet,
    TermsFacet,
)
from ._multisearch import AsyncMultiSearch
from ._response import Hits, Response, Total
from ._search import AsyncSearch

__all__ = [
    "AsyncFacetedSearch",
    "AsyncMultiSearch",
    "AsyncSearch",
    "DateHistogramFacet",
    "FacetValue",
    "FacetedResponse",
    "Facets",
    "HistogramFacet",
    "Hits",
    "NestedFacet",
    "RangeFacet",
    "Response",
    "TermsFacet",
    "Total",
]
