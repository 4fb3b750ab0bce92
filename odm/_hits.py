"""Raw hits -> validated models, in pydantic-core: the hot path of every search.

A hit ``{"_id": .., "_index": .., "_source": {...}, "highlight": ..}`` is validated
as the document class with a before-validator that hands pydantic the source
fields plus ``meta`` (the hit itself, read by :class:`~odm.meta.Meta`'s aliases).
No intermediate ``AttrDict`` or dsl ``Document`` is built.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError

from .errors import HitValidationError
from .mapping import es_field_name
from .meta import Meta

__all__ = ["HitReader", "reader_for"]

D = TypeVar("D", bound=BaseModel)


def _hit_to_input(hit: Any) -> Any:
    if isinstance(hit, Mapping) and "_id" in hit:
        source = hit.get("_source")
        return {**source, "meta": hit} if source else {"meta": hit}
    return hit


class HitReader(Generic[D]):
    """Validates the raw hits of one document class, with ``meta`` filled."""

    def __init__(self, model: type[D]) -> None:
        self.model = model
        hit_type: Any = Annotated[model, BeforeValidator(_hit_to_input)]
        self._one: TypeAdapter[D] = TypeAdapter(hit_type)
        self._many: TypeAdapter[list[D]] = TypeAdapter(list[hit_type])
        self._by_es_name = {
            es_field_name(name, info): (name, TypeAdapter(info.rebuild_annotation()))
            for name, info in model.model_fields.items()
            if name != "meta"
        }

    def read(self, hit: Mapping[str, Any], partial: bool = False) -> D:
        """Validate one hit; ``partial`` for a hit whose ``_source`` was filtered.

        Raises:
            HitValidationError: the source does not validate, naming index, id and fields.
        """
        if partial:
            return self._read_partial(hit)
        try:
            return self._one.validate_python(hit)
        except ValidationError as errors:
            raise HitValidationError(hit.get("_index"), hit.get("_id"), errors, self.model.__name__) from errors

    def read_many(self, hits: Sequence[Mapping[str, Any]], partial: bool = False) -> list[D]:
        """Validate a page of hits in one pydantic-core call (per hit when ``partial``)."""
        if partial:
            return [self._read_partial(hit) for hit in hits]
        try:
            return self._many.validate_python(hits)
        except ValidationError as errors:
            position = errors.errors()[0]["loc"][0]
            bad = hits[position] if isinstance(position, int) else hits[0]
            self.read(bad)  # raises the error of that one hit, with its index and id
            raise  # pragma: no cover - read() above always raises for the failing hit

    def _read_partial(self, hit: Mapping[str, Any]) -> D:
        """Validate the fields that were fetched; the others keep their defaults or stay unset."""
        values: dict[str, Any] = {}
        line_errors: list[Any] = []
        for key, value in (hit.get("_source") or {}).items():
            known = self._by_es_name.get(key)
            if known is None:
                continue
            name, adapter = known
            try:
                values[name] = adapter.validate_python(value)
            except ValidationError as errors:
                line_errors.extend(
                    {"type": e["type"], "loc": (key, *e["loc"]), "input": e["input"], "ctx": e.get("ctx", {})}
                    for e in errors.errors(include_url=False)
                )
        if line_errors:
            combined = ValidationError.from_exception_data(self.model.__name__, line_errors)
            raise HitValidationError(hit.get("_index"), hit.get("_id"), combined, self.model.__name__) from combined
        meta = Meta.model_validate(hit)
        return self.model.model_construct(_fields_set=set(values), meta=meta, **values)


_readers: weakref.WeakKeyDictionary[type[BaseModel], HitReader[Any]] = weakref.WeakKeyDictionary()


def reader_for(model: type[D]) -> HitReader[D]:
    """The cached :class:`HitReader` of ``model``: its adapters are built once per class."""
    reader = _readers.get(model)
    if reader is None:
        reader = _readers[model] = HitReader(model)
    return reader
