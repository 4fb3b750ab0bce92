"""Typed query parameters as filters and a whitelisted sort: a FastAPI dependency per document.

``search_params(Post, filters=["category", "tags"], sort=["price", "created_at"])`` gives a
dependency whose parameters FastAPI reads from the query string, typed from the model
(``category: Category | None``, ``tags: list[str] | None``, ``sort: Literal["price",
"-price", ...] | None``), so OpenAPI documents them and FastAPI refuses a bad value with a
422. Each given parameter becomes a term filter through the field expressions (a list
field matches any of the values given), and ``sort`` can only name the whitelisted fields:
a client cannot sort on an unindexed field or filter on one you did not expose.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, Optional, TypeVar, get_args, get_origin

from fastapi import Query

from ..document import AsyncDocument
from ..errors import ArgumentError
from ..expressions import FieldExpr
from ..search._search import AsyncSearch

__all__ = ["SearchParams", "search_params"]

D = TypeVar("D", bound=AsyncDocument)

_LISTS = (list, set, frozenset, tuple, Sequence)


@dataclass(frozen=True)
class SearchParams(Generic[D]):
    """The filters and sort a request asked for; :meth:`apply` adds them to a search."""

    document: type[D]
    values: dict[str, Any]
    sort: str | None

    def apply(self, search: AsyncSearch[D]) -> AsyncSearch[D]:
        """``search`` with a term filter per given parameter and the sort asked for."""
        for name, value in self.values.items():
            expression = _expression(self.document, name)
            search = search.filter(expression.in_(value) if isinstance(value, list) else expression == value)
        if self.sort is not None:
            name = self.sort.removeprefix("-")
            expression = _expression(self.document, name)
            search = search.sort(-expression if self.sort.startswith("-") else expression)
        return search


def search_params(
    document: type[D], *, filters: Sequence[str] = (), sort: Sequence[str] = ()
) -> Callable[..., SearchParams[D]]:
    """A FastAPI dependency reading ``filters`` and a whitelisted ``sort`` from the query string.

    Example::

        PostParams = search_params(Post, filters=["category", "tags"], sort=["price"])

        @app.get("/posts")
        async def posts(params: SearchParams[Post] = Depends(PostParams)) -> list[PostOut]:
            return [to_public(p) async for p in params.apply(Post.search())]

    Raises:
        ArgumentError: a name that is not a field of ``document``, or a field that cannot be
            filtered on whole values (a ``text`` field without a keyword sub-field).
    """
    parameters = []
    for name in filters:
        annotation = _parameter_type(document, name)
        _expression(document, name).in_([])  # a text field without keyword fails here, at startup
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=Query(None), annotation=annotation))
    if sort:
        for name in sort:
            _expression(document, name)
        choices = tuple(value for name in sort for value in (name, f"-{name}"))
        sort_type: Any = Optional[Literal[choices]]  # noqa: UP045 - built at run time for FastAPI
        parameters.append(inspect.Parameter("sort", inspect.Parameter.KEYWORD_ONLY, default=Query(None), annotation=sort_type))

    def dependency(**given: Any) -> SearchParams[D]:
        chosen = given.pop("sort", None)
        values = {name: value for name, value in given.items() if value is not None}
        return SearchParams(document, values, chosen)

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


def _parameter_type(document: type[AsyncDocument], name: str) -> Any:
    """The query parameter's type: the field's type (its element type for a list), optional.

    ``Annotated`` metadata (an Elasticsearch field class) is dropped: it is not the value's
    type, and it cannot be put in a union.
    """
    if name not in document.model_fields or name == "meta":
        raise ArgumentError(f"{document.__name__} has no field {name!r} to filter on")
    annotation = _plain(document.model_fields[name].annotation)
    origin = get_origin(annotation)
    args = [_plain(a) for a in get_args(annotation) if a is not type(None)]
    if origin is not None and isinstance(origin, type) and issubclass(origin, _LISTS) and args:
        return Optional[list[args[0]]]  # type: ignore[valid-type]  # noqa: UP045
    if origin is not None and len(args) == 1:  # X | None
        return Optional[args[0]]  # noqa: UP045
    return Optional[annotation]  # noqa: UP045


def _plain(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
