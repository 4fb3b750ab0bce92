"""Raw hits -> validated models, in pydantic-core: the hot path of every search.

A hit ``{"_id": .., "_index": .., "_source": {...}, "highlight": ..}`` is validated
as the document class with a before-validator that hands pydantic the source
fields plus ``meta`` (the hit itself, read by :class:`~odm.meta.Meta`'s aliases).
No intermediate ``AttrDict`` or dsl ``Document`` is built.

A whole search response can also be validated from its JSON bytes
(:meth:`HitReader.read_response`): one ``validate_json`` call over the response
envelope builds the models without first building the hits as dicts, which is the
faster path (measured in ``docs/performance.md``).

Inner hits are typed here too (``meta.inner_hits``): a nested inner hit becomes an
:class:`~odm.meta.InnerHit` of the nested field's model, a collapse inner hit one of
the searched class. And a page with a hit that does not validate is read again hit by
hit, for a search that skips or collects such hits (:class:`InvalidHit`) instead of
raising.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, from_json
from typing_extensions import TypedDict

from ..errors import HitValidationError
from ..mapping import es_field_name, model_at
from ..meta import FROM_ELASTICSEARCH, InnerHit, Meta, hit_keys, meta_from_hit
from .document_options import IdField, is_document_class, options_of
from .hit_classes import hit_classes
from .id_field import id_field_of, source_with_id
from .stored_values import BASE64_BYTES
from .vectors import is_whole_source

__all__ = [
    "NO_RULES",
    "HitReader",
    "InnerHitRules",
    "InvalidHit",
    "InvalidPolicy",
    "gc_paused",
    "inner_hit_rules",
    "invalid_list",
    "reader_for",
    "settle",
]

#: What a search does with a hit whose ``_source`` does not validate: raise
#: ``HitValidationError``, leave it out and log it, or leave it out and report it.
InvalidPolicy = Literal["raise", "skip", "collect"]

logger = logging.getLogger("odm")


def invalid_list(policy: InvalidPolicy) -> list[InvalidHit] | None:
    """Where a read under ``policy`` reports the hits that do not validate; ``None`` raises them."""
    return None if policy == "raise" else []


def settle(policy: InvalidPolicy, invalid: list[InvalidHit] | None) -> list[InvalidHit]:
    """The invalid hits a read under ``policy`` keeps: each logged (a WARNING on the ``odm``
    logger, never silent) and dropped when skipped, all kept when collected."""
    if not invalid:
        return []
    if policy == "skip":
        for hit in invalid:
            logger.warning("%s; left out of the results (on_invalid='skip')", hit)
        return []
    return invalid


@dataclasses.dataclass(frozen=True, slots=True)
class InvalidHit:
    """A hit left out of a search's results because its ``_source`` does not validate.

    Attributes:
        index: the hit's ``_index``.
        id: the hit's ``_id`` (for a nested inner hit, its document's).
        model: the class it was validated as.
        errors: pydantic's errors, as ``ValidationError.errors()`` lists them.
        source: the ``_source`` as Elasticsearch sent it.
    """

    index: str | None
    id: str | None
    model: str
    errors: list[ErrorDetails]
    source: dict[str, Any] | None

    @classmethod
    def of(cls, error: HitValidationError, hit: Mapping[str, Any]) -> InvalidHit:
        """The report of ``hit``, refused with ``error``."""
        source = hit.get("_source")
        return cls(
            error.index, error.id, error.model, error.errors.errors(include_url=False),
            dict(source) if isinstance(source, Mapping) else None,
        )

    def __str__(self) -> str:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<document>'}: {e['msg']}" for e in self.errors)
        return f"hit {self.id!r} in index {self.index!r} is not a valid {self.model}: {detail}"


@dataclasses.dataclass(frozen=True, slots=True)
class InnerHitRules:
    """How one search's inner hits are read, from its request body (:func:`inner_hit_rules`).

    Attributes:
        same_class: names of inner-hit sections that hold documents of the searched
            class (a ``collapse`` with ``inner_hits``).
        partial: an ``inner_hits`` definition filters ``_source``: inner hits are read as
            partial models (the fields that came back).
        models: the search's classes, when it has several: each collapse member is read
            as its own (a member of another index is not a document of the hit's class).
    """

    same_class: frozenset[str] = frozenset()
    partial: bool = False
    models: tuple[type[BaseModel], ...] = ()


NO_RULES = InnerHitRules()


def inner_hit_rules(body: Mapping[str, Any], models: Sequence[type[BaseModel]] = ()) -> InnerHitRules:
    """The :class:`InnerHitRules` of a search body, of documents of ``models``."""
    collapse = body.get("collapse")
    wanted = collapse.get("inner_hits") if isinstance(collapse, Mapping) else None
    definitions = [wanted] if isinstance(wanted, Mapping) else list(wanted or ())
    same_class = frozenset(str(d["name"]) for d in definitions if isinstance(d, Mapping) and "name" in d)
    return InnerHitRules(same_class, _filters_inner_source(body), tuple(models) if len(models) > 1 else ())


def _filters_inner_source(value: Any) -> bool:
    """Whether an ``inner_hits`` definition anywhere in ``value`` filters ``_source``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "inner_hits":
                definitions = [item] if isinstance(item, Mapping) else item if isinstance(item, list) else []
                if any(isinstance(d, Mapping) and not is_whole_source(d.get("_source", True)) for d in definitions):
                    return True
            if _filters_inner_source(item):
                return True
    elif isinstance(value, list):
        return any(_filters_inner_source(item) for item in value)
    return False



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


def _source_and_id(id_field: IdField, hit: Any) -> Any:
    # _source_of for a class whose id field is kept only as _id: the field is filled from it.
    if isinstance(hit, Mapping) and "_id" in hit:
        return source_with_id(id_field, hit)
    return hit


def _with_base64_bytes(annotation: Any) -> Any:
    return Annotated[annotation, BASE64_BYTES]


class HitReader(Generic[D]):
    """Validates the raw hits of one document class, with ``meta`` filled."""

    def __init__(self, model: type[D]) -> None:
        self.model = model
        id_field = id_field_of(model)
        #: the id field filled from _id (not in _source): hits are read from dicts, never straight from bytes
        self._id_field = id_field if id_field is not None and not id_field.stored else None
        source = _source_of if self._id_field is None else functools.partial(_source_and_id, self._id_field)
        hit_type: Any = Annotated[model, BeforeValidator(source)]
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
        self._models_at: dict[str, type[BaseModel] | None] = {}  # nested path -> its model

    def read(
        self,
        hit: Mapping[str, Any],
        partial: bool = False,
        rules: InnerHitRules = NO_RULES,
        invalid: list[InvalidHit] | None = None,
    ) -> D:
        """Validate one hit; ``partial`` for a hit whose ``_source`` was filtered.

        Args:
            rules: how its inner hits are read.
            invalid: where inner hits that do not validate are reported (they are left
                out); ``None`` raises for them.

        A hit without ``_source`` (``stored_fields`` only, ``_source: false``) is read as
        partial too: a model of defaults would be taken for the stored document.

        Raises:
            HitValidationError: the source does not validate, naming index, id and fields.
        """
        if partial or "_source" not in hit:
            return self._read_partial(hit, rules, invalid)
        try:
            return self._with_meta(self._one.validate_python(hit, context=FROM_ELASTICSEARCH), hit, rules, invalid)
        except ValidationError as errors:
            raise HitValidationError(hit.get("_index"), hit.get("_id"), errors, self.model.__name__) from errors

    def read_many(
        self,
        hits: Sequence[Mapping[str, Any]],
        partial: bool = False,
        rules: InnerHitRules = NO_RULES,
        invalid: list[InvalidHit] | None = None,
    ) -> list[D]:
        """Validate a page of hits in one pydantic-core call (per hit when ``partial``).

        Args:
            invalid: ``None`` raises for a hit that does not validate. A list receives
                such hits instead, left out of the result: the page is then read again
                hit by hit (only a page with an invalid hit pays for it).

        Raises:
            HitValidationError: a hit does not validate and ``invalid`` is ``None``.
        """
        if partial or not all("_source" in hit for hit in hits):  # read() takes a hit without one as partial
            return self._read_each(hits, partial, rules, invalid)
        try:
            with gc_paused():
                models = self._many.validate_python(hits, context=FROM_ELASTICSEARCH)
                return [self._with_meta(model, hit, rules, invalid) for model, hit in zip(models, hits)]
        except ValidationError as errors:
            if invalid is not None:
                return self._read_each(hits, False, rules, invalid)
            position = errors.errors()[0]["loc"][0]
            bad = hits[position] if isinstance(position, int) else hits[0]
            self.read(bad, rules=rules)  # raises the error of that one hit, with its index and id
            raise  # pragma: no cover - read() above always raises for the failing hit

    def read_or_report(
        self, hit: Mapping[str, Any], partial: bool, rules: InnerHitRules, invalid: list[InvalidHit] | None
    ) -> D | None:
        """:meth:`read`, except that with an ``invalid`` list a hit that does not validate is
        reported there (``None`` is returned) instead of raised."""
        try:
            return self.read(hit, partial, rules, invalid)
        except HitValidationError as error:
            if invalid is None:
                raise
            invalid.append(InvalidHit.of(error, hit))
            return None

    def _read_each(
        self, hits: Sequence[Mapping[str, Any]], partial: bool, rules: InnerHitRules, invalid: list[InvalidHit] | None
    ) -> list[D]:
        read = (self.read_or_report(hit, partial, rules, invalid) for hit in hits)
        return [model for model in read if model is not None]

    def read_response(
        self, data: bytes, rules: InnerHitRules = NO_RULES, invalid: list[InvalidHit] | None = None
    ) -> tuple[dict[str, Any], list[D]]:
        """Validate a whole search response from its JSON bytes, in one pydantic-core call.

        Args:
            invalid: as for :meth:`read_many`; a page with an invalid hit is decoded and
                read hit by hit, and its body holds the decoded sources.

        Returns:
            The response body and its hits as models with ``meta`` filled. In the body,
            each hit keeps its keys, but its ``_source`` is the model: the source was
            validated straight into it, never built as a dict.

        Raises:
            HitValidationError: a hit does not validate, naming its index, id and fields.
        """
        if self._id_field is not None:  # the field is filled from each hit's _id, so from a dict
            decoded = from_json(data)
            return decoded, self.read_many(decoded.get("hits", {}).get("hits", []), rules=rules, invalid=invalid)
        if self._response is None:
            self._response = TypeAdapter(_response_type(self.model))
        try:
            with gc_paused():
                body = self._response.validate_json(data, context=FROM_ELASTICSEARCH)
        except ValidationError:
            decoded = from_json(data)
            hits = decoded.get("hits", {}).get("hits", [])
            if invalid is not None:
                return decoded, self.read_many(hits, rules=rules, invalid=invalid)
            # Name the failing hit the way read_many() does, from the decoded page.
            self.read_many(hits, rules=rules)
            raise
        return body, [self._model_of(hit, rules, invalid) for hit in body.get("hits", {}).get("hits", [])]

    def _model_of(self, hit: dict[str, Any], rules: InnerHitRules, invalid: list[InvalidHit] | None) -> D:
        model = hit.get("_source")
        if model is None:  # no _source at all (disabled, or stored_fields only)
            return self.read(hit, rules=rules, invalid=invalid)
        meta = model.__dict__.get("meta")
        if isinstance(meta, Meta):
            # Set in place: Meta's annotations validated these keys already (see _response_type).
            name_of = _META_NAME_OF.get
            for key, value in hit.items():
                name = name_of(key)
                if name is not None:
                    object.__setattr__(meta, name, value)
            if meta.inner_hits is not None:
                self._type_inner_hits(meta, rules, invalid)
        if model.__pydantic_extra__:  # inlined from _kept(): this runs once per hit
            self._kept(model)
        return model  # type: ignore[no-any-return]

    def _with_meta(
        self, model: Any, hit: Mapping[str, Any], rules: InnerHitRules, invalid: list[InvalidHit] | None
    ) -> D:
        """Give a model validated from a hit's source the hit's meta and its unknown fields."""
        meta = model.__dict__["meta"] = meta_from_hit(hit)
        if meta.inner_hits is not None:
            self._type_inner_hits(meta, rules, invalid)
        return self._kept(model)

    # -- inner hits -------------------------------------------------------------------

    def _type_inner_hits(self, meta: Meta, rules: InnerHitRules, invalid: list[InvalidHit] | None) -> None:
        """Replace the raw hits of each ``meta.inner_hits`` section by :class:`InnerHit` where the class is known."""
        for name, section in (meta.inner_hits or {}).items():
            typed = [self._inner_hit(name, raw, rules, invalid) for raw in section]
            section[:] = [hit for hit in typed if hit is not None]

    def _inner_hit(
        self, name: str, raw: InnerHit[Any] | dict[str, Any], rules: InnerHitRules, invalid: list[InvalidHit] | None
    ) -> InnerHit[Any] | dict[str, Any] | None:
        """One inner hit, typed; unchanged when its class is unknown; ``None`` when left out as invalid."""
        if isinstance(raw, InnerHit) or not isinstance(raw.get("_source"), Mapping):
            return raw  # already typed, or no source to validate (_source: false)
        if "_nested" not in raw:
            if name not in rules.same_class:
                return raw  # has_child, has_parent, ...: not known to be of this class
            reader = reader_for(hit_classes(rules.models).model_for(raw)) if rules.models else self
            document = reader.read_or_report(raw, rules.partial, rules, invalid)
            if document is None:
                return None
            meta = document.__dict__.get("meta")
            return InnerHit(document, _without_unassigned_tokens(meta if isinstance(meta, Meta) else meta_from_hit(raw)))
        return self.read_nested(raw, f"inner hits {name!r}", rules, invalid)

    def read_nested(
        self, raw: dict[str, Any], section: str, rules: InnerHitRules, invalid: list[InvalidHit] | None
    ) -> InnerHit[Any] | dict[str, Any] | None:
        """A nested hit of this class's documents (one with ``_nested``): an :class:`InnerHit`
        of the nested field's model, with its own meta.

        Args:
            section: where the hit is, for the report of one that does not validate
                (``"inner hits 'comments'"``, ``"top hits 'top'"``).
            rules: ``partial`` when its ``_source`` was filtered; a hit without one is
                partial too.
            invalid: where a hit that does not validate is reported (``None`` is
                returned); ``None`` raises it.

        Returns:
            The raw hit, unchanged, for a path the model does not declare as a model.

        Raises:
            HitValidationError: it does not validate (``invalid`` is ``None``), naming the
                document's index and id, ``section``, the path and the offset.
        """
        meta = _without_unassigned_tokens(meta_from_hit(raw))
        path = meta.nested.path if meta.nested is not None else ""
        model = self._model_at(path)
        if model is None:
            return raw  # a path the model does not declare as a model (dynamic fields, a dict)
        partial = rules.partial or not isinstance(raw.get("_source"), Mapping)
        try:
            doc = reader_for(model)._read_source(raw, partial)
        except ValidationError as errors:
            offset = meta.nested.offset if meta.nested is not None else "?"
            refused = HitValidationError(meta.index, meta.id, errors, f"{model.__name__} ({section}, {path}[{offset}])")
            if invalid is None:
                raise refused from errors
            invalid.append(InvalidHit.of(refused, raw))
            return None
        if meta.inner_hits is not None:
            self._type_inner_hits(meta, rules, invalid)  # _nested paths start at the document
        if partial:
            meta.partial_source = True
        return InnerHit(doc, meta)

    def _model_at(self, path: str) -> type[BaseModel] | None:
        if path not in self._models_at:
            self._models_at[path] = model_at(self.model, path)
        return self._models_at[path]

    def _read_source(self, hit: Mapping[str, Any], partial: bool) -> D:
        """The ``_source`` of ``hit`` as a model, without meta: a nested object.

        Raises:
            ValidationError: it does not validate.
        """
        if not partial:
            return self._one.validate_python(hit, context=FROM_ELASTICSEARCH)
        try:
            values = self.read_fields(hit.get("_source") or {}, hit.get("_index"), hit.get("_id"))
        except HitValidationError as error:
            raise error.errors from None
        return self.model.model_construct(_fields_set=set(values), **values)

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

    def _read_partial(self, hit: Mapping[str, Any], rules: InnerHitRules, invalid: list[InvalidHit] | None) -> D:
        """Validate the fields that were fetched; the others keep their defaults or stay unset."""
        source = hit.get("_source") or {}
        if self._id_field is not None and "_id" in hit:
            source = source_with_id(self._id_field, hit)
        values = self.read_fields(source, hit.get("_index"), hit.get("_id"))
        meta = meta_from_hit(hit)
        if meta.inner_hits is not None:
            self._type_inner_hits(meta, rules, invalid)
        meta.partial_source = True  # save() refuses it: the fields not fetched would be lost
        document = self.model.model_construct(_fields_set=set(values), meta=meta, **values)
        return document


def _without_unassigned_tokens(meta: Meta) -> Meta:
    """Inner hits carry ``_seq_no: -2, _primary_term: 0`` (Elasticsearch's "unassigned"): not tokens.

    Kept, they would make a save of a collapse member fail as a conflict; unknown is ``None``.
    """
    if meta.seq_no is not None and meta.seq_no < 0:
        meta.seq_no = meta.primary_term = None
    return meta


_readers: weakref.WeakKeyDictionary[type[BaseModel], HitReader[Any]] = weakref.WeakKeyDictionary()


def reader_for(model: type[D]) -> HitReader[D]:
    """The cached :class:`HitReader` of ``model``: its adapters are built once per class."""
    reader = _readers.get(model)
    if reader is None:
        reader = _readers[model] = HitReader(model)
    return reader
