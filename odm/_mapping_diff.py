"""Compare the mapping a model wants with the live one: what to add, what conflicts.

Pure functions, so ``init()`` can decide before it sends anything: with any
conflict it raises and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MappingDiff", "diff_mappings"]

#: Field parameters Elasticsearch lets a live mapping change.
UPDATABLE_PARAMS = frozenset({"ignore_above", "meta", "search_analyzer", "search_quote_analyzer", "ignore_malformed", "dynamic"})


class MappingDiff:
    """The outcome of :func:`diff_mappings`: ``added`` and ``changed`` paths, and ``conflicts``."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.changed: list[str] = []
        self.conflicts: list[str] = []

    @property
    def needs_update(self) -> bool:
        """Whether a ``put_mapping`` would change anything."""
        return bool(self.added or self.changed)


def diff_mappings(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> MappingDiff:
    """Compare two ``mappings`` bodies (``{"properties": ...}``) field by field.

    Fields only in ``live`` are fine (Elasticsearch keeps them); fields only in
    ``wanted`` are additions; a different type, or a different fixed parameter
    (analyzer, format, ...) is a conflict.
    """
    diff = MappingDiff()
    _compare(wanted.get("properties", {}), live.get("properties", {}), "", diff)
    return diff


def _kind(definition: Mapping[str, Any]) -> str:
    return str(definition.get("type", "object"))


def _compare(wanted: Mapping[str, Any], live: Mapping[str, Any], prefix: str, diff: MappingDiff) -> None:
    for name, want in wanted.items():
        path = f"{prefix}{name}"
        have = live.get(name)
        if have is None:
            diff.added.append(path)
            continue
        if _kind(want) != _kind(have):
            diff.conflicts.append(f"{path}: the index has {_kind(have)}, the model wants {_kind(want)}")
            continue
        for key, value in want.items():
            if key in ("type", "properties", "fields") or have.get(key) == value:
                continue
            if key in UPDATABLE_PARAMS:
                diff.changed.append(f"{path}.{key}")
            else:
                diff.conflicts.append(
                    f"{path}: {key} is {have.get(key)!r} in the index, the model wants {value!r}"
                )
        _compare(want.get("properties", {}), have.get("properties", {}), f"{path}.", diff)
        _compare(want.get("fields", {}), have.get("fields", {}), f"{path}.", diff)
