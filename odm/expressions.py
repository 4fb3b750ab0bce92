"""Class-level field expressions: ``Post.views > 10`` builds a query, ``post.views`` is the value.

Every pydantic field of an :class:`~odm.AsyncDocument` is, at class level, a
:class:`FieldExpr`: comparisons build elasticsearch.dsl queries, unary ``-``/``+`` give
sort keys, and anywhere elasticsearch.dsl takes a field name it takes the expression.
With the ``odm.mypy`` plugin, mypy types each expression by the field's value type, so
``Post.views > "ten"`` is an error in the editor (see ``docs/typed-queries.md``).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from elasticsearch.dsl import field as dsl_field
from elasticsearch.dsl import query
from elasticsearch.dsl.document_base import InstrumentedField
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError

from ._core.document_options import options_of
from .errors import FieldQueryError
from .mapping import es_field_name

__all__ = ["FieldExpr", "FieldQueryError"]

T = TypeVar("T")

_LIST_ORIGINS = (list, set, frozenset, tuple, Sequence)
_TEXT_TYPES = frozenset({"text", "match_only_text"})


class FieldExpr(InstrumentedField, Generic[T]):
    """A field path of a document class, typed by the value type ``T`` of one value.

    ``Post.views`` is a ``FieldExpr[int]``; ``Post.tags`` (``list[str]``) a
    ``FieldExpr[str]``; ``Post.author.name`` and ``Post.title.raw`` reach into objects and
    multi-fields. It is an elasticsearch.dsl ``InstrumentedField``, so ``sort``, ``source``,
    ``highlight``, ``collapse`` and ``A(..., field=...)`` take it as a field name.
    """

    def __init__(
        self,
        path: str,
        es_field: dsl_field.Field | None,
        value_type: Any,
        label: str,
        nested: tuple[str, ...] = (),
    ) -> None:
        super().__init__(path, es_field)
        self._value_type = value_type
        self._label = label
        self._nested = nested
        self._adapter: TypeAdapter[Any] | None = None
        self._children: dict[str, FieldExpr[Any]] = {}

    def __repr__(self) -> str:
        return f"FieldExpr({self._label}, path={self._expr!r})"

    def to_dict(self) -> str:
        """The path: how elasticsearch.dsl serializes an expression given as a parameter.

        Example: ``A("terms", field=Post.tags).to_dict() == {"terms": {"field": "tags"}}``
        """
        return self._expr

    # -- comparisons -----------------------------------------------------------------

    def __eq__(self, value: T | None) -> query.Query:  # type: ignore[override]
        """A ``term`` query; ``== None`` is "has no value". Example: ``Post.tags == "python"``."""
        if value is None:
            return ~self.exists()
        target = self._term_level("==")
        return self._wrap(query.Term(target._expr, target._dump(value)))

    def __ne__(self, value: T | None) -> query.Query:  # type: ignore[override]
        """The negated ``term`` query; ``!= None`` is "has a value". Example: ``Post.tags != "draft"``."""
        return ~(self == value)

    def __gt__(self, value: T) -> query.Query:  # type: ignore[override]
        """A ``range`` query. Example: ``Post.views > 10``."""
        return self._range("gt", value)

    def __ge__(self, value: T) -> query.Query:  # type: ignore[override]
        """A ``range`` query. Example: ``Post.views >= 10``."""
        return self._range("gte", value)

    def __lt__(self, value: T) -> query.Query:  # type: ignore[override]
        """A ``range`` query. Example: ``Post.created_at < datetime(2026, 1, 1)``."""
        return self._range("lt", value)

    def __le__(self, value: T) -> query.Query:  # type: ignore[override]
        """A ``range`` query. Example: ``Post.views <= 10``."""
        return self._range("lte", value)

    def between(self, low: T, high: T) -> query.Query:
        """A ``range`` query, both ends included. Example: ``Post.views.between(10, 20)``."""
        target = self._term_level("between()")
        bounds = {"gte": target._dump(low), "lte": target._dump(high)}
        return self._wrap(query.Range(target._expr, bounds))

    def in_(self, values: Iterable[T]) -> query.Query:  # type: ignore[override]
        """A ``terms`` query: any of ``values``. Example: ``Post.tags.in_(["python", "rust"])``."""
        target = self._term_level("in_()")
        return self._wrap(query.Terms(target._expr, [target._dump(v) for v in values]))

    def match(self, value: T, **options: Any) -> query.Query:  # type: ignore[override]
        """A full-text ``match`` query on this field.

        Example: ``Post.title.match("hello world", operator="and")``

        Args:
            options: further keys of the match body (``operator``, ``fuzziness``, ...).
        """
        self._require_values()
        dumped = self._dump(value)
        return self._wrap(query.Match(self._expr, {"query": dumped, **options} if options else dumped))

    def prefix(self: FieldExpr[str], value: str) -> query.Query:
        """A ``prefix`` query. Example: ``Post.tags.prefix("py")``."""
        return self._wrap(query.Prefix(self._expr, self._dump(value)))

    def exists(self) -> query.Query:
        """An ``exists`` query: the field has a value. Example: ``~Post.author.exists()``.

        On a nested field it asks for at least one element (a ``nested`` query on its path).
        """
        inner: query.Query = query.Exists(field=self._expr)
        if isinstance(self._field, dsl_field.Nested):
            inner = query.Nested(path=self._expr, query=inner)
        return self._wrap(inner)

    # -- reaching into objects and multi-fields ---------------------------------------

    def __getattr__(self, name: str) -> FieldExpr[Any]:
        """``Post.author.name`` (a field of an object) or ``Post.title.raw`` (a multi-field)."""
        if name.startswith("_"):  # copy and pickle probe dunders on half-built objects
            raise AttributeError(name)
        child = self._children.get(name)
        if child is None:
            child = self._children[name] = self._child(name)
        return child

    def _child(self, name: str) -> FieldExpr[Any]:
        model = _model_of(self._value_type)
        if model is not None:
            info = model.model_fields.get(name)
            if info is not None:
                return self._property(es_field_name(name, info), _annotation_of(info), name)
        elif name in _subfields(self._field):
            assert self._field is not None
            label = f"{self._label}.{name}"
            return FieldExpr(f"{self._expr}.{name}", self._field[name], self._value_type, label, self._nested)
        elif isinstance(self._field, dsl_field.Object) and _dict_value_type(self._value_type) is not None:
            return self._property(name, _dict_value_type(self._value_type), name)
        known = ", ".join(self._names()) or "none"
        raise AttributeError(f"{self._label} has no field or sub-field {name!r}; it has: {known}")

    def _property(self, es_name: str, annotation: Any, name: str) -> FieldExpr[Any]:
        inner = self._field[es_name] if isinstance(self._field, dsl_field.Object) and es_name in self._field else None
        nested = (*self._nested, self._expr) if isinstance(self._field, dsl_field.Nested) else self._nested
        return FieldExpr(f"{self._expr}.{es_name}", inner, _one_value(annotation), f"{self._label}.{name}", nested)

    def _names(self) -> list[str]:
        model = _model_of(self._value_type)
        if model is not None:
            return list(model.model_fields)
        return list(_subfields(self._field))

    # -- building queries --------------------------------------------------------------

    def _term_level(self, operation: str) -> FieldExpr[Any]:
        """The field a term-level query runs on: a text field's keyword sub-field."""
        self._require_values()
        if self._field is None or self._field.name not in _TEXT_TYPES:
            return self
        for name, kind in _subfields(self._field).items():
            if kind == "keyword":
                return self.__getattr__(name)
        raise FieldQueryError(
            f"{self._label} is a text field without a keyword sub-field, so {operation} cannot "
            f"compare whole values; use {self._label}.match(...), or map it as "
            'Annotated[str, Text(fields={"raw": Keyword()})]'
        )

    def _require_values(self) -> None:
        if _model_of(self._value_type) is not None:
            raise FieldQueryError(f"{self._label} is an object; compare one of its fields, e.g. {self._label}.<field>")

    def _range(self, operator: str, value: Any) -> query.Query:
        target = self._term_level(f"{operator} range")
        return self._wrap(query.Range(target._expr, {operator: target._dump(value)}))

    def _dump(self, value: Any) -> Any:
        """``value`` validated as the model takes it (lax: ``10`` for a ``Decimal``, ``"books"``
        for an enum whose value it is), then serialized as it is stored, in JSON."""
        if self._adapter is None:
            self._adapter = TypeAdapter(self._value_type)
        try:
            return self._adapter.dump_python(self._adapter.validate_python(value), mode="json")
        except (ValidationError, PydanticSerializationError) as error:
            raise FieldQueryError(f"{self._label}: {value!r} is not a valid {_describe(self._value_type)}") from error

    def _wrap(self, inner: query.Query) -> query.Query:
        for path in reversed(self._nested):
            inner = query.Nested(path=path, query=inner)
        return inner


class _ClassLevelField:
    """What ``Post.views`` reads: the field's expression. Instances read their ``__dict__``.

    A non-data descriptor, so a pydantic instance's own values (kept in ``__dict__``) win.
    While pydantic builds a subclass it looks fields up on the new class and its bases;
    there the descriptor answers ``AttributeError``, as if it were not there, so the
    expression is neither taken for a default nor reported as shadowed by the subclass.
    """

    def __init__(self, name: str, expression: FieldExpr[Any]) -> None:
        self.name = name
        self.expression = expression

    def __get__(self, instance: object, owner: type) -> FieldExpr[Any]:
        if instance is None and self._installed_on(owner) and not _subclass_being_built(owner):
            return self.expression
        raise AttributeError(f"{owner.__name__!r} object has no attribute {self.name!r}")

    def _installed_on(self, owner: type) -> bool:
        """Not inherited by a subclass that pydantic is still building (it gets its own)."""
        return vars(owner).get(self.name) is self


def _subclass_being_built(owner: type) -> bool:
    # pydantic sets ``__pydantic_fields__`` on a class right after collecting its fields.
    subclasses: list[type] = type.__subclasses__(owner)
    return any("__pydantic_fields__" not in vars(sub) for sub in subclasses)


def install_field_expressions(document: type[Any]) -> None:
    """Make each field of ``document`` (``meta`` excepted) a :class:`FieldExpr` at class level."""
    options = options_of(document)
    mapping = options.mapping
    id_field = options.id_field
    for name, info in document.model_fields.items():
        if name == "meta":
            continue
        path = es_field_name(name, info)
        es_field = mapping[path] if path in mapping else None
        if id_field is not None and id_field.name == name and not id_field.stored:
            path, es_field = "_id", dsl_field.Keyword()  # kept only as _id: Product.sku == "a" asks _id
        expression: FieldExpr[Any] = FieldExpr(
            path, es_field, _one_value(_annotation_of(info)), f"{document.__name__}.{name}"
        )
        setattr(document, name, _ClassLevelField(name, expression))


# -- the type of one value ----------------------------------------------------------


def _annotation_of(info: FieldInfo) -> Any:
    """The field's annotation with its metadata (serializers apply to the value)."""
    if not info.metadata:
        return info.annotation
    parameters = (info.annotation, *info.metadata)
    return Annotated[parameters]


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _one_value(annotation: Any) -> Any:
    """The type of one value: ``Optional`` dropped, lists and sets unwrapped."""
    while True:
        bare = _bare(annotation)
        origin = get_origin(bare)
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(bare) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        elif isinstance(origin, type) and issubclass(origin, _LIST_ORIGINS):
            args = [a for a in get_args(bare) if a is not Ellipsis]
            annotation = args[0] if args else Any
        else:
            return annotation


def _subfields(es_field: dsl_field.Field | None) -> dict[str, str]:
    """The multi-fields of ``es_field``: name -> Elasticsearch type."""
    if es_field is None:
        return {}
    return {name: body.get("type", "object") for name, body in es_field.to_dict().get("fields", {}).items()}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    bare = _bare(annotation)
    return bare if isinstance(bare, type) and issubclass(bare, BaseModel) else None


def _dict_value_type(annotation: Any) -> Any | None:
    bare = _bare(annotation)
    origin = get_origin(bare) or bare
    if isinstance(origin, type) and issubclass(origin, Mapping):
        args = get_args(bare)
        return args[1] if len(args) == 2 else Any
    return None


def _describe(annotation: Any) -> str:
    bare = _bare(annotation)
    return bare.__name__ if isinstance(bare, type) else repr(bare)
