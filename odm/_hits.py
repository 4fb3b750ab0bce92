"""Raw hits -> validated models, in pydantic-core: the hot path of every search.

A hit ``{"_id": .., "_index": .., "_source": {...}, "highlight": ..}`` is validated
as the document class with a before-validator that hands pydantic the source
fields plus ``meta`` (the hit itself, read by :class:`~odm.meta.Meta`'s aliases).
No intermediate ``AttrDict`` or dsl ``Document`` is built.

A whole search response can also be validated from its JSON bytes
(:meth:`HitReader.read_response`): one ``validate_json`` call over the response
envelope builds the models without first building the hits as dicts, which is the
faster path (measured in ``docs/performance.md``).
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import from_json
from typing_extensions import TypedDict

from ._stored_values import BASE64_BYTES
from ._document_options import is_document_class, options_of
from .errors import HitValidationError
from .mapping import es_field_name
from .meta import FROM_ELASTICSEARCH, Meta, hit_keys, meta_from_hit

__all__ = ["HitReader", "gc_paused", "reader_for"]

D = TypeVar("D", bound=BaseModel)


# (key in a raw hit, Meta field, its annotation): "_id" -> id, "highlight" -> highlight, ...
_META_KEYS = hit_keys()

# Raw hit key -> Meta field name, for the keys a hit actually has.
_META_NAME_OF = {key: name for key, name, _ in _META_KEYS}

# A functional TypedDict built at run time: mypy only accepts literal ones.
_typed_dict: Any = TypedDict
_KEEP_OTHER_KEYS = ConfigDict(extra="allow")


def _section(name: str, fields: dict[str, Any]) -> Any:
    section = _typed_dict(name, fields, total=False)
    section.__pydantic_config__ = _KEEP_OTHER_KEYS
    return section


def _response_type(model: type[BaseModel]) -> Any:
    """The search response, with each hit's ``_source`` validated as ``model``.

    The meta keys are validated with :class:`~odm.meta.Meta`'s own annotations; every
    other key of the response is kept as it is.
    """
    hit = _section(f"{model.__name__}Hit", {key: annotation for key, _, annotation in _META_KEYS} | {"_source": model})
    hits = _section(f"{model.__name__}Hits", {"hits": list.__class_getitem__(hit)})
    return _section(f"{model.__name__}Response", {"hits": hits})


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page of models is built.

    A 10,000-hit page allocates hundreds of thousands of containers, and the
    collections they trigger traverse all of them again and again: the cost per hit
    grows with the page. None of them is in a reference cycle (reference counting
    frees them), so those collections find nothing. No ``await`` happens inside.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _source_of(hit: Any) -> Any:
    # Only the source is validated: meta is set from the hit afterwards, so no stored value
    # (a field named "meta") can choose a document's id, index or routing.
    if isinstance(hit, Mapping) and "_id" in hit:
        return hit.get("_source") or {}
    return hit


def _with_base64_bytes(annotation: Any) -> Any:
    return Annotated[annotation, BASE64_BYTES]


class HitReader(Generic[D]):
    """Validates the raw hits of one document class, with ``meta`` filled."""

    def __init__(self, model: type[D]) -> None:
        self.model = model
        hit_type: Any = Annotated[model, BeforeValidator(_source_of)]
        self._one: TypeAdapter[D] = TypeAdapter(hit_type)
        self._many: TypeAdapter[list[D]] = TypeAdapter(list[hit_type])
        # Each field read on its own (a filtered _source, an update's answer), bytes as documents read them.
        self._by_es_name: dict[str, tuple[str, TypeAdapter[Any]]] = {
            es_field_name(name, info): (name, TypeAdapter(_with_base64_bytes(info.rebuild_annotation())))
            for name, info in model.model_fields.items()
            if name != "meta"
        }
        self._response: TypeAdapter[dict[str, Any]] | None = None
        # Documents capture unknown stored fields as pydantic extras; a hit moves them to meta.
        options = options_of(model) if is_document_class(model) else None
        self._keeps: frozenset[str] | None = (
            options.source_names if options is not None and options.keep_unknown_fields else None
        )

    def read(self, hit: Mapping[str, Any], partial: bool = False) -> D:
        """Validate one hit; ``partial`` for a hit whose ``_source`` was filtered.

        Raises:
            HitValidationError: the source does not validate, naming index, id and fields.
        """
        if partial:
            return self._read_partial(hit)
        try:
            return self._with_meta(self._one.validate_python(hit, context=FROM_ELASTICSEARCH), hit)
        except ValidationError as errors:
            raise HitValidationError(hit.get("_index"), hit.get("_id"), errors, self.model.__name__) from errors

    def read_many(self, hits: Sequence[Mapping[str, Any]], partial: bool = False) -> list[D]:
        """Validate a page of hits in one pydantic-core call (per hit when ``partial``)."""
        if partial:
            return [self._read_partial(hit) for hit in hits]
        try:
            with gc_paused():
                models = self._many.validate_python(hits, context=FROM_ELASTICSEARCH)
                return [self._with_meta(model, hit) for model, hit in zip(models, hits)]
        except ValidationError as errors:
            position = errors.errors()[0]["loc"][0]
            bad = hits[position] if isinstance(position, int) else hits[0]
            self.read(bad)  # raises the error of that one hit, with its index and id
            raise  # pragma: no cover - read() above always raises for the failing hit

    def read_response(self, data: bytes) -> tuple[dict[str, Any], list[D]]:
        """Validate a whole search response from its JSON bytes, in one pydantic-core call.

        Returns:
            The response body and its hits as models with ``meta`` filled. In the body,
            each hit keeps its keys, but its ``_source`` is the model: the source was
            validated straight into it, never built as a dict.

        Raises:
            HitValidationError: a hit does not validate, naming its index, id and fields.
        """
        if self._response is None:
            self._response = TypeAdapter(_response_type(self.model))
        try:
            with gc_paused():
                body = self._response.validate_json(data, context=FROM_ELASTICSEARCH)
        except ValidationError:
            # Name the failing hit the way read_many() does, from the decoded page.
            self.read_many(from_json(data).get("hits", {}).get("hits", []))
            raise
        return body, [self._model_of(hit) for hit in body.get("hits", {}).get("hits", [])]

    def _model_of(self, hit: dict[str, Any]) -> D:
        model = hit.get("_source")
        if model is None:  # no _source at all (disabled, or stored_fields only)
            return self.read(hit)
        meta = model.__dict__.get("meta")
        if isinstance(meta, Meta):
            # Set in place: Meta's annotations validated these keys already (see _response_type).
            name_of = _META_NAME_OF.get
            for key, value in hit.items():
                name = name_of(key)
                if name is not None:
                    object.__setattr__(meta, name, value)
        if model.__pydantic_extra__:  # inlined from _kept(): this runs once per hit
            self._kept(model)
        return model  # type: ignore[no-any-return]

    def _with_meta(self, model: Any, hit: Mapping[str, Any]) -> D:
        """Give a model validated from a hit's source the hit's meta and its unknown fields."""
        model.__dict__["meta"] = meta_from_hit(hit)
        return self._kept(model)

    def _kept(self, model: Any) -> D:
        """Move the unknown stored fields pydantic kept as extras into ``meta.unknown_fields``.

        Only here, for data Elasticsearch sent: outside data's extras are dropped when written.
        """
        extra = model.__pydantic_extra__
        if extra:
            keeps = self._keeps
            if keeps is not None:
                model.meta.unknown_fields = {key: value for key, value in extra.items() if key not in keeps} or None
            object.__setattr__(model, "__pydantic_extra__", {})
        return model  # type: ignore[no-any-return]

    def read_fields(self, source: Mapping[str, Any], index: str | None, id: str | None) -> dict[str, Any]:
        """Validate the model fields present in ``source``, by Elasticsearch name, each on its own.

        Returns:
            The valid values by field name; keys the model does not declare are left out.

        Raises:
            HitValidationError: a value does not validate, naming index, id and field.
        """
        values: dict[str, Any] = {}
        line_errors: list[Any] = []
        for key, value in source.items():
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
            raise HitValidationError(index, id, combined, self.model.__name__) from combined
        return values

    def _read_partial(self, hit: Mapping[str, Any]) -> D:
        """Validate the fields that were fetched; the others keep their defaults or stay unset."""
        values = self.read_fields(hit.get("_source") or {}, hit.get("_index"), hit.get("_id"))
        meta = meta_from_hit(hit)
        meta.partial_source = True  # save() refuses it: the fields not fetched would be lost
        document = self.model.model_construct(_fields_set=set(values), meta=meta, **values)
        return document


_readers: weakref.WeakKeyDictionary[type[BaseModel], HitReader[Any]] = weakref.WeakKeyDictionary()


def reader_for(model: type[D]) -> HitReader[D]:
    """The cached :class:`HitReader` of ``model``: its adapters are built once per class."""
    reader = _readers.get(model)
    if reader is None:
        reader = _readers[model] = HitReader(model)
    return reader
