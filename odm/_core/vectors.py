"""Reads that ask for vectors: Elasticsearch 9 leaves them out of ``_source`` by default.

With ``index.mapping.exclude_source_vectors`` (true by default for indices created by
Elasticsearch 9.2 and later), ``dense_vector``, ``sparse_vector`` and ``rank_vectors``
values are kept in the index but not returned in ``_source`` unless a read asks
(``_source: {"exclude_vectors": false}`` on a search, ``_source_exclude_vectors=false``
on a get). A document read without them and saved back would lose them, so odm's typed
reads ask, as elasticsearch.dsl's ``Document.search()`` does. The read-back of a create
answered 409 asks too, and compares the vectors as the values Elasticsearch stored
(:func:`stored_as_sent`). Pure: nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import struct
import weakref
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..errors import ArgumentError, MappingError
from ..mapping import mapping_for
from .document_options import is_document_class, options_of

__all__ = [
    "VECTOR_TYPES",
    "WHOLE_SOURCE_WITH_VECTORS",
    "inner_hits_with_vectors",
    "is_whole_source",
    "reads_vectors",
    "same_json",
    "source_param",
    "stored_as_sent",
    "with_vectors",
]

#: The field types ``exclude_source_vectors`` leaves out of ``_source``.
VECTOR_TYPES = frozenset({"dense_vector", "sparse_vector", "rank_vectors"})

#: An inner-hits ``_source`` asking for the whole source with its vectors: on inner hits,
#: Elasticsearch ignores ``exclude_vectors`` unless ``includes`` is given.
WHOLE_SOURCE_WITH_VECTORS: Mapping[str, Any] = {"includes": ["*"], "exclude_vectors": False}


def is_whole_source(source: Any) -> bool:
    """Whether a request's ``_source`` value returns every stored field: none given,
    ``True``, or the forms odm and elasticsearch.dsl send to ask for the vectors too."""
    return source is None or source is True or source == {"exclude_vectors": False} or source == WHOLE_SOURCE_WITH_VECTORS


def source_param(source: Any, operation: str) -> bool | str:
    """The ``_source`` query parameter of a ``get``/``mget``: ``True``/``False``, or field names joined by commas.

    Raises:
        ArgumentError: neither a bool, a field name, nor a list of field names.
    """
    if isinstance(source, bool):
        return source
    names = [source] if isinstance(source, str) else source if isinstance(source, (list, tuple)) else None
    if not names or not all(isinstance(name, str) and name and "," not in name for name in names):
        raise ArgumentError(f"{operation}(_source=...) takes True, False or field names, not {source!r}")
    return ",".join(names)


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


def inner_hits_with_vectors(definition: Mapping[str, Any]) -> dict[str, Any]:
    """An ``inner_hits`` definition that also asks for vectors: its ``_source`` extended as
    :func:`with_vectors` does, with ``includes: ["*"]`` where it names none (there,
    Elasticsearch ignores ``exclude_vectors`` alone: :data:`WHOLE_SOURCE_WITH_VECTORS`)."""
    source = definition.get("_source")
    if source is None or source is True:
        return {**definition, "_source": dict(WHOLE_SOURCE_WITH_VECTORS)}
    source = with_vectors(source)
    if isinstance(source, Mapping) and source.get("exclude_vectors") is False and "includes" not in source:
        source = {"includes": ["*"], **source}
    return {**definition, "_source": source}


def stored_as_sent(sent: Any, stored: Any, model: type[BaseModel]) -> bool:
    """Whether a ``_source`` read back with its vectors holds what a write of ``model`` sent.

    Both are decoded JSON. They must be equal, except at ``model``'s vector fields, which
    Elasticsearch rebuilds from what it indexed: a ``dense_vector`` (or ``rank_vectors``)
    of floats compares as float32 values, whether sent as a list or packed (base64), within
    two float32 steps for a cosine one (stored normalized, given back multiplied by its
    magnitude); ``sparse_vector`` weights compare with the bits Lucene keeps of them; a
    vector sent as ``null`` comes back absent. Any other difference is a different document.
    """
    mapping = options_of(model).mapping.to_dict() if is_document_class(model) else _mapping_of(model)
    return _same(sent, stored, mapping)


def same_json(a: Any, b: Any) -> bool:
    """Whether two decoded JSON values are the same JSON: ``true``, ``1`` and ``1.0`` differ.

    Python finds ``True == 1 == 1.0``, but a stored ``1`` is not a ``true`` that was sent
    (in an unparsed object, a ``flattened`` field or an untyped ``dict``, each is read back
    as itself).
    """
    return a == b and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    """Given ``a == b``: whether every value in them has the same JSON type."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Mapping):
        return all(_same_types(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b))
    return True


def _same(sent: Any, stored: Any, spec: Mapping[str, Any]) -> bool:
    """``sent`` and ``stored`` at a field of mapping ``spec`` (the whole mapping at the top)."""
    if same_json(sent, stored):
        return True
    kind = spec.get("type")
    if kind in VECTOR_TYPES:
        return _same_vector(sent, stored, kind, spec)
    properties = spec.get("properties")
    if not isinstance(properties, Mapping):
        return False
    if isinstance(sent, list) and isinstance(stored, list):  # an array of objects
        return len(sent) == len(stored) and all(_same(a, b, spec) for a, b in zip(sent, stored))
    if not (isinstance(sent, Mapping) and isinstance(stored, Mapping)):
        return False
    for key in sent.keys() | stored.keys():
        field = properties.get(key, {})
        if key in sent and key in stored:
            if not _same(sent[key], stored[key], field):
                return False
        elif not (field.get("type") in VECTOR_TYPES and sent.get(key, stored.get(key)) is None):
            return False  # only a vector sent as null is left out of what Elasticsearch gives back
    return True


# Elasticsearch stores a cosine vector of floats normalized, with its magnitude, and gives
# back their product: two float32 roundings, at most a float32 step (ulp) from the value
# sent; measured at most 1 over thousands of vectors of 3 to 512 dimensions. 2 allows for a
# step across a power of two.
_COSINE_ULPS = 2
_SIGN, _MAGNITUDE = 0x80000000, 0x7FFFFFFF


def _same_vector(sent: Any, stored: Any, kind: str, spec: Mapping[str, Any]) -> bool:
    if kind == "sparse_vector":
        sent_weights, stored_weights = _feature_bits(sent), _feature_bits(stored)
        return sent_weights is not None and sent_weights == stored_weights
    if spec.get("element_type", "float") != "float":  # byte and bit vectors are integers: compared as numbers
        return bool(sent == stored)
    if kind == "rank_vectors":
        return (
            isinstance(sent, list) and isinstance(stored, list) and len(sent) == len(stored)
            and all(_same_floats(a, b, normalized=False) for a, b in zip(sent, stored))
        )
    # cosine is the default similarity of an indexed dense_vector
    normalized = spec.get("index", True) is not False and spec.get("similarity", "cosine") == "cosine"
    return _same_floats(sent, stored, normalized)


def _same_floats(sent: Any, stored: Any, normalized: bool) -> bool:
    """A float vector sent and the one stored: the same float32s, or within rounding if ``normalized``."""
    sent_bits, stored_bits = _float32_bits(sent), _float32_bits(stored)
    if sent_bits is None or stored_bits is None or len(sent_bits) != len(stored_bits):
        return False
    if not normalized:
        return sent_bits == stored_bits
    return all(
        (a & _SIGN) == (b & _SIGN) and abs((a & _MAGNITUDE) - (b & _MAGNITUDE)) <= _COSINE_ULPS
        for a, b in zip(sent_bits, stored_bits)
    )


def _float32_bits(value: Any) -> tuple[int, ...] | None:
    """A float vector as the bits of the float32s Elasticsearch indexes; ``None`` if it is not one.

    A string is a packed vector (base64 of big-endian float32s, ``pack_dense_vector``).
    """
    try:
        if isinstance(value, str):
            raw = base64.b64decode(value, validate=True)
        elif isinstance(value, list) and not any(isinstance(x, bool) for x in value):
            raw = struct.pack(f">{len(value)}f", *value)
        else:
            return None
        return struct.unpack(f">{len(raw) // 4}I", raw) if len(raw) % 4 == 0 else None
    except (binascii.Error, struct.error, OverflowError, TypeError):
        return None


def _feature_bits(value: Any) -> dict[str, int] | None:
    """``sparse_vector`` weights as Lucene's feature fields keep them: a float32's top 17 bits."""
    if not isinstance(value, Mapping) or any(isinstance(weight, bool) for weight in value.values()):
        return None
    try:
        return {str(token): struct.unpack(">I", struct.pack(">f", weight))[0] & 0xFFFF8000 for token, weight in value.items()}
    except (struct.error, OverflowError, TypeError):
        return None


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
