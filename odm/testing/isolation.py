"""Bind document classes to a per-test index prefix, so tests cannot see each other's data."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from .._core.document_options import options_of
from ..document import AsyncDocument

__all__ = ["isolated"]

D = TypeVar("D", bound=AsyncDocument)


def isolated(document: type[D], prefix: str) -> type[D]:
    """A subclass of ``document`` whose index name and aliases start with ``prefix``.

    It keeps the fields, mapping and settings; hits and ``get()`` return the subclass,
    which is still an instance of ``document``.

    Example: ``Post = isolated(Post, index_prefix)``, then ``await Post.init()``.
    """
    options = options_of(document)
    if options.name is None:
        raise ValueError(f"{document.__name__} has no Index.name to prefix")
    index = type(
        "Index",
        (),
        {
            "name": prefix + options.name,
            # The parent's own aliases are removed (None), so no unprefixed alias is ever created.
            "aliases": {alias: None for alias in options.aliases}
            | {prefix + alias: body for alias, body in options.aliases.items()},
        },
    )
    namespace = {
        "Index": index,
        "__annotations__": {"Index": ClassVar[type]},
        "__module__": document.__module__,
    }
    bound = type(document.__name__, (document,), namespace)
    bound.__qualname__ = document.__qualname__
    return bound
