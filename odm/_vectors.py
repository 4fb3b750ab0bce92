"""Reads that ask for vectors: Elasticsearch 9 leaves them out of ``_source`` by default.

With ``index.mapping.exclude_source_vectors`` (true by default for indices created by
Elasticsearch 9.2 and later), ``dense_vector``, ``sparse_vector`` and ``rank_vectors``
values are kept in the index but not returned in ``_source`` unless a read asks
(``_source: {"exclude_vectors": false}`` on a search, ``_source_exclude_vectors=false``
on a get). A document read without them and saved back would lose them, so odm's typed
reads ask, as elasticsearch.dsl's ``Document.search()`` does. Pure: nothing here does I/O.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ._document_options import is_document_class, options_of
from .errors import MappingError
from .mapping import mapping_for

__all__ = ["VECTOR_TYPES", "reads_vectors", "with_vectors"]

#: The field types ``exclude_source_vectors`` leaves out of ``_source``.
VECTOR_TYPES = frozenset({"dense_vector", "sparse_vector", "rank_vectors"})

_answers: weakref.WeakKeyDictionary[type[BaseModel], bool] = weakref.WeakKeyDictionary()


def reads_vectors(model: type[BaseModel]) -> bool:
    """Whether reads of ``model`` must ask for vectors.

    True for a model with a vector field (at any depth), and for a document class that
    keeps unknown stored fields: one of them may be a vector another program writes.
    """
    answer = _answers.get(model)
    if answer is None:
        if is_document_class(model):
            options = options_of(model)
            answer = options.keep_unknown_fields or _has_vectors(options.mapping.to_dict())
        else:
            answer = _has_vectors(_mapping_of(model))
        _answers[model] = answer
    return answer


def with_vectors(source: Any) -> Any:
    """A search's ``_source`` value that also asks for vectors, unless it says otherwise.

    ``None`` or ``True`` (the whole source) becomes ``{"exclude_vectors": false}``, a field
    list becomes its ``includes``; ``False`` and an explicit ``exclude_vectors`` are kept.
    """
    if source is None or source is True:
        return {"exclude_vectors": False}
    if isinstance(source, (str, list, tuple)):
        return {"includes": source, "exclude_vectors": False}
    if isinstance(source, Mapping) and "exclude_vectors" not in source:
        return {**source, "exclude_vectors": False}
    return source


def _mapping_of(model: type[BaseModel]) -> dict[str, Any]:
    try:
        return mapping_for(model).to_dict()
    except MappingError:  # a plain model that cannot be mapped declares no vector field odm knows of
        return {}


def _has_vectors(mapping: Mapping[str, Any]) -> bool:
    """Whether a mapping (or an object field's) has a vector field, at any depth."""
    return any(
        spec.get("type") in VECTOR_TYPES or _has_vectors(spec) for spec in mapping.get("properties", {}).values()
    )
