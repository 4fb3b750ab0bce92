"""Typed query parameters as filters and a whitelisted sort: a FastAPI dependency per document.

``search_params(Post, filters=["category", "tags"], sort=["price", "created_at"])`` gives a
dependency whose parameters FastAPI reads from the query string, typed from the model
(``category: Category | None``, ``tags: list[str] | None``, ``sort: Literal["price",
"-price", ...] | None``), so OpenAPI documents them and FastAPI refuses a bad value with a
422. Each given parameter becomes a term filter through the field expressions (a list
field matches any of the values given), and ``sort`` can only name the whitelisted fields:
a client cannot sort on an unindexed field or filter on one you did not expose.

Nothing a client sends reaches Elasticsearch as a request it would refuse (a 500): a
float is finite (``NaN``, ``inf``, ``1e400`` are a 422, not invalid JSON in the body), a
list parameter has at most ``max_values`` values, and a sort field is checked to be
sortable when the dependency is built (a ``text`` field sorts by its keyword sub-field,
or is refused).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, Optional, TypeVar, get_args, get_origin

from decimal import Decimal

from fastapi import Query
from pydantic import AllowInfNan

from ..document import AsyncDocument
from ..errors import ArgumentError, FieldQueryError
from ..expressions import FieldExpr
from ..mapping import SORTABLE_TYPES
from ..search._search import AsyncSearch

__all__ = ["SearchParams", "search_params"]

D = TypeVar("D", bound=AsyncDocument)

_LISTS = (list, set, frozenset, tuple, Sequence)
#: The most values a list parameter takes by default (``?tags=a&tags=b...``).
MAX_VALUES = 100


@dataclass(frozen=True)
class SearchParams(Generic[D]):
    """The filters and sort a request asked for; :meth:`apply` adds them to a search."""

    document: type[D]
    values: dict[str, Any]
    sort: str | None

    def apply(self, search: AsyncSearch[D]) -> AsyncSearch[D]:
        """``search`` with a term filter per given parameter and the sort asked for (or the default)."""
        for name, value in self.values.items():
            expression = _expression(self.document, name)
            search = search.filter(expression.in_(value) if isinstance(value, list) else expression == value)
        if self.sort is not None:
            expression = _sort_field(self.document, self.sort.removeprefix("-"))
            search = search.sort(-expression if self.sort.startswith("-") else expression)
        return search


def search_params(
    document: type[D],
    *,
    filters: Sequence[str] = (),
    sort: Sequence[str] = (),
    default_sort: str | None = None,
    max_values: int = MAX_VALUES,
) -> Callable[..., SearchParams[D]]:
    """A FastAPI dependency reading ``filters`` and a whitelisted ``sort`` from the query string.

    Example::

        PostParams = search_params(Post, filters=["category", "tags"], sort=["price"], default_sort="-price")

        @app.get("/posts")
        async def posts(params: SearchParams[Post] = Depends(PostParams)) -> list[PostOut]:
            return [to_public(p) async for p in params.apply(Post.search())]

    Args:
        filters: fields a client may filter on, one query parameter each.
        sort: fields a client may sort on (``?sort=price`` or ``?sort=-price``).
        default_sort: the sort when the client names none (``"-price"``); one of ``sort``'s.
        max_values: the most values a list parameter takes (``?tags=`` repeated): more is a 422.

    Raises:
        ArgumentError: a name that is not a field of ``document``, a field that cannot be
            filtered on whole values (a ``text`` field without a keyword sub-field) or
            sorted on (a ``text`` field without one, an object, a vector), a
            ``default_sort`` that is not one of the choices, or ``max_values`` below 1.
    """
    if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 1:
        raise ArgumentError(f"max_values must be an int of 1 or more, not {max_values!r}")
    parameters = []
    for name in filters:
        annotation = _parameter_type(document, name)
        _expression(document, name).in_([])  # a text field without keyword fails here, at startup
        is_list = get_origin(get_args(annotation)[0]) is list
        default = Query(None, max_length=max_values) if is_list else Query(None)
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    choices = tuple(value for name in sort for value in (name, f"-{name}"))
    for name in sort:
        _sort_field(document, name)  # a field that cannot be sorted on fails here, at startup
    if default_sort is not None and default_sort not in choices:
        raise ArgumentError(f"default_sort={default_sort!r} is not one of the sort choices {list(choices)}")
    if sort:
        sort_type: Any = Optional[Literal[choices]]  # noqa: UP045 - built at run time for FastAPI
        parameters.append(inspect.Parameter("sort", inspect.Parameter.KEYWORD_ONLY, default=Query(None), annotation=sort_type))

    def dependency(**given: Any) -> SearchParams[D]:
        chosen = given.pop("sort", None)
        values = {name: value for name, value in given.items() if value is not None}
        return SearchParams(document, values, chosen if chosen is not None else default_sort)

    dependency.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    dependency.__name__ = f"{document.__name__}_search_params"
    return dependency


def _expression(document: type[AsyncDocument], name: str) -> FieldExpr[Any]:
    if name not in document.model_fields or name == "meta":
        raise ArgumentError(f"{document.__name__} has no field {name!r} to filter or sort on")
    expression = getattr(document, name)
    if not isinstance(expression, FieldExpr):
        raise ArgumentError(f"{document.__name__}.{name} is not a field expression")
    return expression


def _sort_field(document: type[AsyncDocument], name: str) -> FieldExpr[Any]:
    """The field a sort on ``name`` uses: the field, or a text field's keyword sub-field.

    Raises:
        ArgumentError: not a field, or one Elasticsearch cannot sort on (every such sort would be a 500).
    """
    expression = _expression(document, name)
    try:
        target = expression._term_level("sort")
    except FieldQueryError as error:
        raise ArgumentError(f"{document.__name__}.{name} cannot be a sort choice: {error}") from error
    kind = getattr(target._field, "name", None)
    if kind not in SORTABLE_TYPES:
        raise ArgumentError(
            f"{document.__name__}.{name} cannot be a sort choice: it is a {kind or 'unmapped'} field; "
            f"Elasticsearch sorts on {', '.join(sorted(SORTABLE_TYPES))} fields"
        )
    return target


def _parameter_type(document: type[AsyncDocument], name: str) -> Any:
    """The query parameter's type: the field's type (its element type for a list), optional.

    ``Annotated`` metadata (an Elasticsearch field class) is dropped: it is not the value's
    type, and it cannot be put in a union. A float or ``Decimal`` must be finite: ``NaN``
    and infinities (``1e400`` is one) are no JSON number Elasticsearch takes.
    """
    if name not in document.model_fields or name == "meta":
        raise ArgumentError(f"{document.__name__} has no field {name!r} to filter on")
    annotation = _plain(document.model_fields[name].annotation)
    origin = get_origin(annotation)
    args = [_finite(_plain(a)) for a in get_args(annotation) if a is not type(None)]
    if origin is not None and isinstance(origin, type) and issubclass(origin, _LISTS) and args:
        return Optional[list[args[0]]]  # type: ignore[valid-type]  # noqa: UP045
    if origin is not None and len(args) == 1:  # X | None
        return Optional[args[0]]  # noqa: UP045
    return Optional[_finite(annotation)]  # noqa: UP045


def _finite(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, (float, Decimal)) and not issubclass(annotation, bool):
        return Annotated[annotation, AllowInfNan(False)]
    return annotation


def _plain(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
