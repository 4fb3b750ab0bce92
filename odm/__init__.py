"""odm: a Pydantic v2, asyncio-first object-document mapper for Elasticsearch 9.x.

Documents are pydantic models (:class:`AsyncDocument`); their mapping comes from
their type hints. Queries, aggregations, field classes and analysis objects are
elasticsearch.dsl's own, re-exported here so one import serves a whole module.
"""

from elasticsearch.dsl import (
    A,
    Binary,
    Boolean,
    Completion,
    Date,
    DenseVector,
    Double,
    Float,
    GeoPoint,
    GeoShape,
    Integer,
    Ip,
    Keyword,
    Long,
    Nested,
    Object,
    Q,
    SparseVector,
    Text,
    analyzer,
    char_filter,
    normalizer,
    token_filter,
    tokenizer,
)

from .connections import AsyncConnections, async_connections
from .document import AsyncDocument
from .errors import (
    DocumentNotFoundError,
    DocumentValidationError,
    HitValidationError,
    InvalidIdError,
    InvalidIndexNameError,
    MappingConflictError,
    MappingError,
    OdmError,
    VersionConflictError,
)
from .index import AsyncIndex
from .mapping import mapping_for
from .meta import Meta
from .response import Hits, Response, Total
from .search import AsyncSearch

__all__ = [
    "A",
    "AsyncConnections",
    "AsyncDocument",
    "AsyncIndex",
    "AsyncSearch",
    "Binary",
    "Boolean",
    "Completion",
    "Date",
    "DenseVector",
    "DocumentNotFoundError",
    "DocumentValidationError",
    "Double",
    "Float",
    "GeoPoint",
    "GeoShape",
    "HitValidationError",
    "Hits",
    "Integer",
    "InvalidIdError",
    "InvalidIndexNameError",
    "Ip",
    "Keyword",
    "Long",
    "MappingConflictError",
    "MappingError",
    "Meta",
    "Nested",
    "Object",
    "OdmError",
    "Q",
    "Response",
    "SparseVector",
    "Text",
    "Total",
    "VersionConflictError",
    "analyzer",
    "async_connections",
    "char_filter",
    "mapping_for",
    "normalizer",
    "token_filter",
    "tokenizer",
]
