"""Which document class a hit is, in a search over several classes: pure, no I/O.

A hit is told apart first by its ``_index`` (each class's ``Index.name``, aliases and
dated ``<name>-*`` indices), then, where classes share an index, by a discriminator the
user declares the pydantic way: a field that every class has as a ``Literal`` with
values of its own (``kind: Literal["question"] = "question"``). Classes that share an
index without one are refused when the search is built, never guessed between.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from ..errors import HitClassError
from ..mapping import es_field_name
from .document_options import is_document_class, options_of

__all__ = ["HitClasses", "hit_classes", "search_models"]


def search_models(doc_types: Sequence[Any]) -> list[type[BaseModel]]:
    """The classes a search reads its hits into: its ``doc_type`` entries that are pydantic
    models (``AsyncDocument`` classes or plain models); none for an untyped search."""
    return [d for d in doc_types if isinstance(d, type) and issubclass(d, BaseModel)]


def _patterns(model: type[BaseModel]) -> tuple[str, ...]:
    return options_of(model).index_patterns if is_document_class(model) else ()


def _literal_values(model: type[BaseModel], name: str) -> tuple[Any, ...] | None:
    info = model.model_fields.get(name)
    if info is None or get_origin(info.annotation) is not Literal:
        return None
    return get_args(info.annotation)


def _discriminator(models: Sequence[type[BaseModel]]) -> tuple[str, dict[Any, type[BaseModel]]] | None:
    """The first field that is a ``Literal`` in every model, with disjoint values: (es name, value -> model)."""
    first = models[0]
    for name, info in first.model_fields.items():
        by_value: dict[Any, type[BaseModel]] = {}
        for model in models:
            values = _literal_values(model, name)
            if values is None or any(value in by_value for value in values):
                break
            by_value.update(dict.fromkeys(values, model))
        else:
            return es_field_name(name, info), by_value
    return None


def _share_an_index(a: type[BaseModel], b: type[BaseModel]) -> bool:
    names_a, names_b = _patterns(a), _patterns(b)
    return any(fnmatch.fnmatchcase(name, pattern) for name in names_a[:1] for pattern in names_b) or any(
        fnmatch.fnmatchcase(name, pattern) for name in names_b[:1] for pattern in names_a
    )


class HitClasses:
    """The classes of one search and how a hit is matched to one of them."""

    def __init__(self, models: tuple[type[BaseModel], ...]) -> None:
        """
        Raises:
            HitClassError: two classes share an index and no ``Literal`` field tells them apart.
        """
        self.models = models
        self._patterns = [(model, _patterns(model)) for model in models]
        self._discriminator = _discriminator(models) if len(models) > 1 else None
        if self._discriminator is None:
            for position, a in enumerate(models):
                for b in models[position + 1 :]:
                    if _share_an_index(a, b):
                        raise HitClassError(
                            f"{a.__name__} and {b.__name__} are stored in the same index, so a hit cannot be told "
                            f"apart by its index: declare a discriminator, a field both have as a Literal with "
                            f"values of their own, e.g. kind: Literal[{a.__name__.lower()!r}] = "
                            f"{a.__name__.lower()!r}"
                        )

    def model_for(self, hit: Mapping[str, Any]) -> type[BaseModel]:
        """The class of ``hit``.

        Raises:
            HitClassError: the hit fits none of the classes.
        """
        if len(self.models) == 1:
            return self.models[0]
        if self._discriminator is not None:
            field, by_value = self._discriminator
            value = (hit.get("_source") or {}).get(field)
            model = by_value.get(value) if isinstance(value, (str, int, bool)) else None
            if model is not None:
                return model
        index = hit.get("_index", "")
        matching = [m for m, patterns in self._patterns if any(fnmatch.fnmatchcase(index, p) for p in patterns)]
        if len(matching) == 1:
            return matching[0]
        names = ", ".join(m.__name__ for m in self.models)
        raise HitClassError(
            f"hit {hit.get('_id')!r} from index {index!r} matches {'none' if not matching else 'several'} of {names}; "
            "give each class an Index name or alias pattern that covers it, or a Literal discriminator field"
        )


@functools.lru_cache(maxsize=256)
def hit_classes(models: tuple[type[BaseModel], ...]) -> HitClasses:
    """The (cached) :class:`HitClasses` of a search's models: searches are cloned at every call."""
    return HitClasses(models)
