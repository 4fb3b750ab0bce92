"""Compare the mapping a model wants with the live one: what to add, what conflicts.

Pure functions, so ``init()`` can decide before it sends anything: with any
conflict it raises and changes nothing.

Elasticsearch leaves out of the mappings it returns every parameter that has its
default value, so a parameter the model sets and the live field lacks cannot be
judged from the mapping alone. Such parameters are listed in
:attr:`MappingDiff.unchecked`; given the field defaults (``get_field_mapping`` with
``include_defaults``), :func:`diff_mappings` compares them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["FieldConflict", "MappingDiff", "diff_mappings", "same_value"]

#: Field parameters Elasticsearch lets a live mapping change.
UPDATABLE_PARAMS = frozenset({"ignore_above", "meta", "search_analyzer", "search_quote_analyzer", "ignore_malformed", "dynamic"})

#: Mapping-level options Elasticsearch lets a live mapping change.
UPDATABLE_OPTIONS = frozenset(
    {"_meta", "dynamic", "date_detection", "numeric_detection", "dynamic_templates", "dynamic_date_formats", "runtime"}
)

Defaults = Mapping[str, Mapping[str, Any]]
"""Field path -> every parameter of the live field, defaults included."""


class FieldConflict(NamedTuple):
    """One conflict of :class:`MappingDiff`, as data (``conflicts`` holds the same as text)."""

    path: str  #: the field path, or the mapping option (``"_source"``)
    param: str  #: ``"type"``, the field parameter, or ``""`` for a mapping option
    live: Any
    wanted: Any


class MappingDiff:
    """The outcome of :func:`diff_mappings`.

    Attributes:
        added: paths of fields the model adds.
        changed: ``path.param`` of updatable parameters (and options) that differ.
        conflicts: one line per field or option whose change Elasticsearch refuses.
        unchecked: ``path.param`` the model sets that the live mapping omits (a default
            value, or not): compared only when the field defaults are given.
        conflicting: the conflicts as :class:`FieldConflict` records, in the same order.
        removed: paths of live fields (and multi-fields) the model does not have; they
            need no update (Elasticsearch keeps them) but hold data the model does not read.
    """

    def __init__(self) -> None:
        self.added: list[str] = []
        self.changed: list[str] = []
        self.conflicts: list[str] = []
        self.unchecked: list[str] = []
        self.conflicting: list[FieldConflict] = []
        self.removed: list[str] = []

    def _conflict(self, conflict: FieldConflict, text: str) -> None:
        self.conflicting.append(conflict)
        self.conflicts.append(text)

    @property
    def needs_update(self) -> bool:
        """Whether a ``put_mapping`` would change anything."""
        return bool(self.added or self.changed or self.unchecked)

    def __repr__(self) -> str:
        return (
            f"MappingDiff(added={self.added!r}, changed={self.changed!r}, "
            f"conflicts={self.conflicts!r}, unchecked={self.unchecked!r})"
        )


def diff_mappings(wanted: Mapping[str, Any], live: Mapping[str, Any], defaults: Defaults | None = None) -> MappingDiff:
    """Compare two ``mappings`` bodies (``{"properties": ...}``) field by field.

    Fields only in ``live`` are fine (Elasticsearch keeps them); fields only in
    ``wanted`` are additions; a different type, or a different fixed parameter
    (analyzer, format, ...) is a conflict.

    Args:
        defaults: the live fields' parameters with defaults, by path, to judge the
            parameters ``live`` omits; without them those are ``unchecked``.
    """
    diff = MappingDiff()
    for key, value in wanted.items():
        if key == "properties" or (key in live and same_value(live[key], value)):
            continue
        if key in UPDATABLE_OPTIONS or key not in live:
            diff.changed.append(key)
        else:
            diff._conflict(
                FieldConflict(key, "", live[key], value), f"{key}: the index has {live[key]!r}, the model wants {value!r}"
            )
    _compare(wanted.get("properties", {}), live.get("properties", {}), "", diff, defaults or {})
    return diff


def same_value(live: Any, wanted: Any) -> bool:
    """Equal as Elasticsearch means it: it returns ``1`` as ``"1"`` and ``True`` as ``"true"`` in places."""
    return bool(_normalise(live) == _normalise(wanted))


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    return None if value is None else str(value)


def _kind(definition: Mapping[str, Any]) -> str:
    return str(definition.get("type", "object"))


def _compare(
    wanted: Mapping[str, Any], live: Mapping[str, Any], prefix: str, diff: MappingDiff, defaults: Defaults
) -> None:
    diff.removed.extend(f"{prefix}{name}" for name in live if name not in wanted)
    for name, want in wanted.items():
        path = f"{prefix}{name}"
        have = live.get(name)
        if have is None:
            diff.added.append(path)
            continue
        if _kind(want) != _kind(have):
            diff._conflict(
                FieldConflict(path, "type", _kind(have), _kind(want)),
                f"{path}: the index has {_kind(have)}, the model wants {_kind(want)}",
            )
            continue
        for key, value in want.items():
            if key in ("type", "properties", "fields"):
                continue
            if key not in have and key not in defaults.get(path, {}):
                diff.unchecked.append(f"{path}.{key}")
                continue
            current = have[key] if key in have else defaults[path][key]
            if same_value(current, value):
                continue
            if key in UPDATABLE_PARAMS:
                diff.changed.append(f"{path}.{key}")
            else:
                diff._conflict(
                    FieldConflict(path, key, current, value),
                    f"{path}: {key} is {current!r} in the index, the model wants {value!r}",
                )
        _compare(want.get("properties", {}), have.get("properties", {}), f"{path}.", diff, defaults)
        _compare(want.get("fields", {}), have.get("fields", {}), f"{path}.", diff, defaults)
