"""Declarative classes of aggregations (and of composite sources), and their result models.

A subclass of :class:`Aggs` lists aggregation definitions as class attributes. Its
*result model* is a pydantic model generated from it, which subclasses it: reading a
response's ``aggregations`` validates straight into an instance of the user's class, in
one pydantic-core call. The declaration itself stays a plain class, because pydantic's
mypy plugin refuses unannotated attributes on models (``docs/aggregations-design.md``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, ClassVar, Generic, TypeVar, overload

from elasticsearch.dsl import Agg
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, from_json
from typing_extensions import Self

from .._core.hits import InvalidHit, gc_paused
from ..errors import AggregationResultError, ArgumentError, HitValidationError

__all__ = [
    "Aggs",
    "Aggregation",
    "Declared",
    "Definition",
    "NoAggs",
    "RESULT_CONFIG",
    "Source",
    "Sources",
    "TopHitsFailure",
    "invalid_top_hits",
]

R = TypeVar("R")

#: Every generated result model: epoch milliseconds for dates (never pydantic's seconds-or-
#: milliseconds guess), keys Elasticsearch adds that a definition does not read ignored.
RESULT_CONFIG = ConfigDict(val_temporal_unit="milliseconds", extra="ignore")

_logger = logging.getLogger("odm")

#: How many times refused bucket keys are left out and the rest read again (pydantic
#: reports every refused key of a response at once, so one round is the rule).
_ROUNDS = 3

# Names a bucket's own fields use: a sub-aggregation so named would clash with them.
_RESERVED = frozenset(
    {"aggs", "key", "key_as_string", "doc_count", "from_", "to", "from_as_string", "to_as_string", "after_key", "buckets"}
)

# Declaration classes whose result model is being built: pydantic reads their attributes
# (defaults, "shadows an attribute in parent"), and must not find the definitions there.
_building: ContextVar[frozenset[type]] = ContextVar("odm_aggs_building", default=frozenset())


# The validation context key under which a read passes its list for invalid top hits.
_INVALID_TOP_HITS = "odm_invalid_top_hits"


def invalid_top_hits(context: Any) -> list[InvalidHit] | None:
    """The list a read reports invalid top hits to (left out of their buckets); ``None`` raises them."""
    found = context.get(_INVALID_TOP_HITS) if isinstance(context, dict) else None
    return found if isinstance(found, list) else None


class TopHitsFailure(Exception):
    """Carries a top hit's :class:`HitValidationError` out of pydantic unchanged.

    (pydantic turns a ``ValueError`` raised inside a validator into a ``ValidationError``;
    this is not one, so it passes through and :func:`read` re-raises the original.)
    """

    def __init__(self, error: HitValidationError) -> None:
        super().__init__(str(error))
        self.error = error


class Definition(Generic[R]):
    """One declared item (an aggregation, a composite source); ``R`` is its result type.

    Read on its declaring class it is the definition (``Facets.colors``); read on a result
    it is the result (``facets.colors``), which pydantic keeps in the instance's ``__dict__``.
    """

    name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[Any]) -> R: ...
    def __get__(self, instance: object, owner: type[Any]) -> Self | R:
        if instance is None and not issubclass(owner, BaseModel) and owner not in _building.get():
            return self
        raise AttributeError(f"{owner.__name__!r} object has no attribute {self.name!r}")

    def result_field(self, owner: str) -> tuple[Any, FieldInfo]:
        """The annotation and pydantic field of this item in ``owner``'s result model."""
        raise NotImplementedError

    def request(self) -> Agg[Any]:
        """elasticsearch.dsl's ``A(...)`` object for this item, built anew on each call."""
        raise NotImplementedError


class Aggregation(Definition[R]):
    """An aggregation definition, an attribute of an :class:`Aggs` class."""


class Source(Definition[R]):
    """A composite aggregation's value source, an attribute of a :class:`Sources` class."""


class Declared:
    """What :class:`Aggs` and :class:`Sources` share: collected definitions, a result model."""

    _definition_type: ClassVar[type[Definition[Any]]] = Definition
    __definitions__: ClassVar[dict[str, Definition[Any]]] = {}
    __result_model__: ClassVar[type[BaseModel] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if issubclass(cls, BaseModel):  # a generated result model: nothing to collect
            return
        annotations = [name for name in cls.__dict__.get("__annotations__", {}) if not name.startswith("_")]
        if annotations:
            raise ArgumentError(
                f"{cls.__name__} declares annotations ({', '.join(annotations)}); an aggregation class "
                "lists definitions only, e.g. `price = Avg(Product.price)`"
            )
        definitions: dict[str, Definition[Any]] = {}
        for base in reversed(cls.__mro__[1:]):
            definitions.update(getattr(base, "__definitions__", {}))
        for name, value in cls.__dict__.items():
            if isinstance(value, Definition):
                if not isinstance(value, cls._definition_type):
                    raise ArgumentError(
                        f"{cls.__name__}.{name} is a {type(value).__name__}, not a {cls._definition_type.__name__}"
                    )
                if name in _RESERVED or name.startswith(("_", "model_")) or _is_library_attribute(cls, name):
                    raise ArgumentError(
                        f"{cls.__name__}.{name}: {name!r} is reserved (a bucket's own field, pydantic's, "
                        f"or a method of {cls._definition_type.__name__} classes); choose another name"
                    )
                definitions[name] = value
        cls.__definitions__ = definitions
        cls.__result_model__ = None

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__name__} is read from a response: response.aggs({type(self).__name__})")

    @classmethod
    def result_model(cls) -> type[BaseModel]:
        """The generated pydantic model whose instances are ``cls``'s results (cached)."""
        model = cls.__dict__.get("__result_model__")
        if model is None:
            model = cls.__result_model__ = cls._build_result_model(BaseModel)
        return model

    @classmethod
    def _build_result_model(cls, *bases: type, **extra: tuple[Any, FieldInfo]) -> type[BaseModel]:
        """A pydantic model subclassing ``bases`` and ``cls``, one field per definition."""
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        fields = {name: d.result_field(f"{cls.__qualname__}.{name}") for name, d in cls.__definitions__.items()}
        for name, (annotation, info) in {**fields, **extra}.items():
            annotations[name] = annotation
            namespace[name] = info
        namespace["__annotations__"] = annotations
        if not any(issubclass(base, BaseModel) and base is not BaseModel for base in bases):
            namespace["model_config"] = RESULT_CONFIG
        with _being_built(cls):
            return type(cls.__name__, (*bases, cls), namespace)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # So ``facets: Facets`` works in a pydantic model or a FastAPI response model.
        return handler(cls.result_model())


def _is_library_attribute(cls: type, name: str) -> bool:
    """Whether ``name`` is an attribute of the library's own classes (``Aggs.requests``, ...)."""
    return any(name in vars(base) for base in cls.__mro__ if base.__module__ == __name__)


@contextlib.contextmanager
def _being_built(cls: type) -> Iterator[None]:
    token = _building.set(_building.get() | {cls})
    try:
        yield
    finally:
        _building.reset(token)


class Aggs(Declared):
    """A declared set of aggregations; its instances are their typed results.

    Example::

        class Facets(Aggs):
            colors = Terms(Product.color, size=10)   # facets.colors: TermsResult[str, NoAggs]
            price = Avg(Product.price)               # facets.price: float | None

        facets = (await Product.search().aggregate(Facets).execute()).aggs(Facets)
    """

    _definition_type = Aggregation
    _adapter: ClassVar[TypeAdapter[Any] | None] = None

    @classmethod
    def requests(cls) -> dict[str, Agg[Any]]:
        """elasticsearch.dsl's ``A(...)`` object of each aggregation, by name (built anew)."""
        return {name: definition.request() for name, definition in cls.__definitions__.items()}

    @classmethod
    def from_aggregations(cls, data: Mapping[str, Any] | None, invalid: list[InvalidHit] | None = None) -> Self:
        """Validate a response's ``aggregations`` object into ``cls``, in one pydantic-core call.

        Args:
            invalid: ``None`` raises for a top hit that does not validate; a list receives
                such hits instead (as ``InvalidHit``), left out of their bucket's top hits.

        Raises:
            AggregationResultError: an aggregation is missing or not of its declared shape.
            HitValidationError: a top hit does not validate as its model and ``invalid`` is ``None``.
        """
        model = cls.result_model()
        data = data if data is not None else {}
        for round in range(_ROUNDS):
            try:
                with gc_paused():  # thousands of bucket models, none in a reference cycle
                    return model.model_validate(data, context=_context(invalid))  # type: ignore[return-value]
            except ValidationError as errors:
                kept = None if invalid is None else _without_refused_keys(cls.__name__, data, errors)
                if kept is None or round == _ROUNDS - 1:
                    raise AggregationResultError(cls.__name__, errors) from errors
                data = kept
            except TopHitsFailure as failure:
                raise failure.error from failure.error.__cause__
        raise AssertionError("unreachable: the last round returns or raises")

    @classmethod
    def from_response_json(cls, data: bytes, invalid: list[InvalidHit] | None = None) -> Self:
        """Validate the ``aggregations`` of a whole search response from its JSON bytes.

        Raises:
            AggregationResultError, HitValidationError: as :meth:`from_aggregations`.
        """
        adapter = cls.__dict__.get("_adapter")
        if adapter is None:
            adapter = cls._adapter = TypeAdapter(_envelope(cls.result_model()))
        try:
            with gc_paused():
                return adapter.validate_json(data, context=_context(invalid)).aggregations  # type: ignore[no-any-return]
        except ValidationError as errors:
            if invalid is None:
                raise AggregationResultError(cls.__name__, errors) from errors
        except TopHitsFailure as failure:
            raise failure.error from failure.error.__cause__
        # Skipping or collecting: read the decoded aggregations, where refused bucket keys are left out.
        return cls.from_aggregations(from_json(data).get("aggregations"), invalid)


def _without_refused_keys(name: str, data: Mapping[str, Any], errors: ValidationError) -> Any | None:
    """A copy of ``data`` without the buckets whose key the field refuses, each logged.

    ``None`` when an error is about something else than a bucket's key (a missing
    aggregation, a malformed answer): that still raises, whatever the policy. The key is
    never turned into another value; its bucket is left out of the typed result.
    """
    refused: dict[tuple[Any, ...], set[int]] = {}
    for error in errors.errors(include_url=False):
        loc = error["loc"]
        at = next(
            (n for n in range(len(loc) - 3, -1, -1) if loc[n] == "buckets" and isinstance(loc[n + 1], int) and loc[n + 2] == "key"),
            None,
        )
        if at is None or error["type"] == "missing":
            return None
        refused.setdefault(tuple(loc[: at + 1]), set()).add(int(loc[at + 1]))
    kept: Any = copy.deepcopy(dict(data))
    for path, positions in refused.items():
        buckets = kept
        for part in path:
            buckets = buckets[part]
        where = ".".join(str(part) for part in path)
        for position in sorted(positions, reverse=True):
            bucket = buckets.pop(position)
            _logger.warning(
                "%s.%s: bucket key %r is not a valid value of its field; the bucket (doc_count %s) is left out "
                "of the typed result (on_invalid)",
                name, where, bucket.get("key"), bucket.get("doc_count"),
            )
    return kept


def _context(invalid: list[InvalidHit] | None) -> dict[str, Any] | None:
    return None if invalid is None else {_INVALID_TOP_HITS: invalid}


def _envelope(result: type[BaseModel]) -> type[BaseModel]:
    namespace = {"__annotations__": {"aggregations": result}, "model_config": ConfigDict(extra="ignore")}
    return type(f"{result.__name__}Response", (BaseModel,), namespace)


class NoAggs(Aggs):
    """No sub-aggregations: the default ``aggs=`` of a bucket aggregation."""


class Sources(Declared):
    """The sources of a composite aggregation; its instances are typed composite keys.

    Example::

        class ColorMonth(Sources):
            color = TermsSource(Product.color)            # key.color: str
            month = DateHistogramSource(Product.created_at, calendar_interval="month")
    """

    _definition_type = Source

