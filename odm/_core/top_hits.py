"""Top hits read as documents: a typed ``TopHits``' hits, and ``top_hits`` asked the
elasticsearch-dsl way on a typed search (``s.aggs.bucket(...).metric("top", "top_hits")``).

The hits themselves are read by :mod:`.hits`, as every hit is (meta, partial sources,
unknown fields, hits that do not validate); this module adds what is particular to top
hits: what their request asks for, the name an invalid one is reported under, and where
they sit in a response's ``aggregations``. Pure: nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import HitValidationError
from .document_options import is_document_class
from .hit_classes import hit_classes
from .hits import HitReader, InnerHitRules, InvalidHit, reader_for
from .vectors import is_whole_source, reads_vectors, with_vectors

__all__ = ["asking_for_documents", "read_top_hits", "top_hits_params", "with_top_hits_read"]

D = TypeVar("D", bound=BaseModel)


def top_hits_params(params: Mapping[str, Any], models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    """A ``top_hits`` definition that asks for what a top hit of ``models`` needs to be saved back.

    Documents' concurrency tokens (``seq_no_primary_term``, unless the definition sets it),
    so a top hit saved back is guarded like any loaded document; and the vectors
    Elasticsearch 9 leaves out of ``_source`` (:func:`~.vectors.with_vectors`) when one of
    the classes reads them, so it does not lose them.
    """
    asked = dict(params)
    if any(is_document_class(model) for model in models):
        asked.setdefault("seq_no_primary_term", True)
    if any(reads_vectors(model) for model in models):
        asked["_source"] = with_vectors(asked.get("_source"))
    return asked


def _section(name: str) -> str:
    return f"top hits {name!r}"


def read_top_hits(
    reader: HitReader[D],
    hits: Sequence[Mapping[str, Any]],
    partial: bool,
    invalid: list[InvalidHit] | None,
    name: str,
) -> list[D]:
    """The top hits ``hits`` of the aggregation ``name``, read by ``reader`` as one page.

    A hit that does not validate is named ``Product (top hits 'best')``: raised, or
    reported to ``invalid`` and left out.

    Raises:
        HitValidationError: a hit does not validate and ``invalid`` is ``None``.
    """
    label = f"{reader.model.__name__} ({_section(name)})"
    found: list[InvalidHit] | None = None if invalid is None else []
    try:
        models = reader.read_many(hits, partial, invalid=found)
    except HitValidationError as error:
        raise HitValidationError(error.index, error.id, error.errors, label) from error.errors
    if invalid is not None and found:
        invalid.extend(dataclasses.replace(hit, model=label) for hit in found)
    return models


def _read_search_top_hits(
    models: tuple[type[BaseModel], ...],
    hits: list[dict[str, Any]],
    partial: bool,
    invalid: list[InvalidHit] | None,
    name: str,
) -> list[Any]:
    """Top hits of a search of ``models``: each a document of its class, or, inside a
    ``nested`` aggregation, an :class:`~odm.meta.InnerHit` of the nested field's model."""
    if len(models) == 1 and not any("_nested" in hit for hit in hits):
        return read_top_hits(reader_for(models[0]), hits, partial, invalid, name)  # one page, one call
    classes = hit_classes(models)
    read: list[Any] = []
    for hit in hits:
        reader = reader_for(classes.model_for(hit))
        if "_nested" in hit:
            one = reader.read_nested(hit, _section(name), InnerHitRules(partial=partial), invalid)
            read.extend(() if one is None else (one,))
        else:
            read.extend(read_top_hits(reader, [hit], partial, invalid, name))
    return read


def _definitions_below(definition: Mapping[str, Any]) -> Mapping[str, Any] | None:
    below = definition.get("aggs", definition.get("aggregations"))
    return below if isinstance(below, Mapping) and below else None


def asking_for_documents(aggs: Mapping[str, Any], models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    """A copy of a request's ``aggs`` whose ``top_hits`` definitions, at any depth, ask for
    what documents of ``models`` need (:func:`top_hits_params`)."""
    asked: dict[str, Any] = {}
    for name, definition in aggs.items():
        if isinstance(definition, Mapping):
            definition = dict(definition)
            if isinstance(definition.get("top_hits"), Mapping):
                definition["top_hits"] = top_hits_params(definition["top_hits"], models)
            below = _definitions_below(definition)
            if below is not None:
                definition["aggs" if "aggs" in definition else "aggregations"] = asking_for_documents(below, models)
        asked[name] = definition
    return asked


def with_top_hits_read(
    aggs: Mapping[str, Any],
    results: Mapping[str, Any],
    models: Sequence[type[BaseModel]],
    invalid: list[InvalidHit] | None,
) -> dict[str, Any]:
    """A copy of a response's ``aggregations`` in which each ``top_hits`` aggregation's hits
    (by the request's ``aggs``, at any depth) are read as documents of ``models``.

    Everything else is kept as Elasticsearch sent it, and ``results`` is not changed.
    A hit's ``_source`` is partial when its definition filters it (:func:`~.vectors.is_whole_source`).

    Raises:
        HitValidationError: a top hit does not validate and ``invalid`` is ``None``.
        HitClassError: a top hit fits none of several ``models``.
    """
    read = dict(results)
    for name, definition in aggs.items():
        result = results.get(name)
        if not (isinstance(definition, Mapping) and isinstance(result, Mapping)):
            continue
        top_hits = definition.get("top_hits")
        section = result.get("hits")
        if isinstance(top_hits, Mapping) and isinstance(section, Mapping) and isinstance(section.get("hits"), list):
            partial = not is_whole_source(top_hits.get("_source"))
            hits = _read_search_top_hits(tuple(models), section["hits"], partial, invalid, name)
            read[name] = {**result, "hits": {**section, "hits": hits}}
            continue
        below = _definitions_below(definition)
        if below is not None:
            read[name] = _buckets_read(below, result, models, invalid)
    return read


def _buckets_read(
    aggs: Mapping[str, Any], result: Mapping[str, Any], models: Sequence[type[BaseModel]], invalid: list[InvalidHit] | None
) -> dict[str, Any]:
    """A bucket aggregation's result with its sub-aggregations' top hits read: each of its
    ``buckets`` (a list, or keyed), or itself for a single-bucket one (``nested``, ``filter``)."""
    buckets = result.get("buckets")
    if isinstance(buckets, list):
        return {**result, "buckets": [_bucket_read(aggs, b, models, invalid) for b in buckets]}
    if isinstance(buckets, Mapping):
        return {**result, "buckets": {key: _bucket_read(aggs, b, models, invalid) for key, b in buckets.items()}}
    return with_top_hits_read(aggs, result, models, invalid)


def _bucket_read(
    aggs: Mapping[str, Any], bucket: Any, models: Sequence[type[BaseModel]], invalid: list[InvalidHit] | None
) -> Any:
    return with_top_hits_read(aggs, bucket, models, invalid) if isinstance(bucket, Mapping) else bucket
