"""How a live index differs from the definition a document class wants, change by change.

Pure: it sorts the differences :mod:`odm._core.mapping_diff` and :mod:`odm._core.settings_diff`
find into what ``init()`` applies in place and what needs a new index (a migration),
each with a one-line reason, and hashes definitions. ``odm.schema`` reads the live
index and calls it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._core.mapping_diff import Defaults, FieldConflict, MappingDiff, diff_mappings, same_value
from .._core.settings_diff import SettingDifference, setting_differences

__all__ = [
    "ODM_META_KEY",
    "Change",
    "ChangeKind",
    "Outcome",
    "classify",
    "hash_definition",
    "live_hash",
    "live_odm_meta",
    "odm_meta",
    "outcome_of",
    "unchecked_params",
]

Outcome = Literal["missing", "none", "in_place", "new_index"]
"""``missing``: no index; ``none``: nothing to do; ``in_place``: ``init()`` applies it;
``new_index``: only a new index (a migration) can have it."""

ChangeKind = Literal["in_place", "new_index"]

#: The key of the mapping's ``_meta`` that odm owns: ``{"definition_hash": ..., "document": ..., "name": ...}``.
ODM_META_KEY = "odm"


@dataclass(frozen=True)
class Change:
    """One difference between a document class and its live index.

    Attributes:
        path: the field path (``"author.name"``), ``"settings.index.<key>"``,
            ``"analysis.<section>.<name>"``, a mapping option, or ``"_meta"``.
        kind: ``"in_place"`` (``init()`` applies it) or ``"new_index"`` (a migration).
        reason: one line: what differs and why it is of that kind.
    """

    path: str
    kind: ChangeKind
    reason: str


# -- hashing ---------------------------------------------------------------------------


def hash_definition(body: Mapping[str, Any]) -> str:
    """The sha256 (hex) of an index definition's settings and mappings, odm's own ``_meta`` left out.

    ``body`` is a create-index body; its aliases are not part of the definition (they
    move without a new index). The JSON is canonical (sorted keys, no spaces), so the
    hash is the same in every run and on every machine.
    """
    mappings = dict(body.get("mappings", {}))
    user_meta = _without_odm(mappings.pop("_meta", {}))
    if user_meta:
        mappings["_meta"] = user_meta
    definition = {"mappings": mappings, "settings": body.get("settings", {})}
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def odm_meta(
    definition_hash: str, document: str, name: str | None = None, migration: str | None = None
) -> dict[str, str]:
    """What odm stores under ``_meta.odm`` of a mapping (``document`` is ``"module:Class"``).

    ``name`` is the name the class queries (``Index.name``: the alias of a versioned class),
    so that ``prune`` deletes only versions made for its alias; ``migration`` is the id of
    the migration that created the index, so that a resumed migration writes only into its own.
    """
    meta = {"definition_hash": definition_hash, "document": document}
    if name is not None:
        meta["name"] = name
    if migration is not None:
        meta["migration"] = migration
    return meta


def live_odm_meta(mappings: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """odm's ``_meta`` entry in a live ``mappings`` body, if it holds one (an index odm created or updated)."""
    stored = mappings.get("_meta", {}).get(ODM_META_KEY)
    return stored if isinstance(stored, Mapping) and stored.get("definition_hash") is not None else None


def live_hash(mappings: Mapping[str, Any]) -> str | None:
    """The definition hash stored in a live ``mappings`` body, if any."""
    stored = mappings.get("_meta", {}).get(ODM_META_KEY)
    found = stored.get("definition_hash") if isinstance(stored, Mapping) else None
    return str(found) if found is not None else None


def _without_odm(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meta.items() if key != ODM_META_KEY}


# -- classifying ----------------------------------------------------------------------

#: Why a field parameter cannot change on a live field (the rest: "fixed when the field is created").
_FIXED_BECAUSE = {
    "type": "a field's type cannot change in place",
    "analyzer": "the stored text was analyzed with the old analyzer",
    "normalizer": "the stored values were normalized with the old normalizer",
    "index": "whether a field is searchable is fixed when it is created",
    "doc_values": "doc values are written when documents are indexed",
    "enabled": "whether an object is parsed is fixed when it is created",
    "store": "stored fields are written when documents are indexed",
    "format": "stored dates were parsed with the old format",
    "index_options": "what the index records per term is fixed when the field is created",
    "term_vector": "term vectors are written when documents are indexed",
}

#: What changing an updatable parameter in place means for the documents already stored.
_IN_PLACE_BECAUSE = {
    "ignore_above": "applies to documents written from now on",
    "ignore_malformed": "applies to documents written from now on",
    "search_analyzer": "used at search time only",
    "search_quote_analyzer": "used at search time only",
    "meta": "field metadata only",
    "dynamic": "applies to new fields from now on",
}

_OBJECT_KINDS = frozenset({"object", "nested"})


def _split_meta(mappings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``mappings`` body without ``_meta``, and its ``_meta`` without odm's key."""
    rest = {key: value for key, value in mappings.items() if key != "_meta"}
    return rest, _without_odm(mappings.get("_meta", {}))


def _mapping_diff(wanted: Mapping[str, Any], live: Mapping[str, Any], defaults: Defaults | None) -> MappingDiff:
    wanted_rest, _ = _split_meta(wanted.get("mappings", {}))
    live_rest, _ = _split_meta(live.get("mappings", {}))
    return diff_mappings(wanted_rest, live_rest, defaults)


def unchecked_params(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """``path.param`` entries whose live value only the field defaults can tell (see ``_mapping_diff``).

    Args:
        wanted: the create-index body the class wants.
        live: the index as ``GET /<index>`` returns it (``mappings``, ``settings``).
    """
    return _mapping_diff(wanted, live, None).unchecked


def classify(
    wanted: Mapping[str, Any],
    live: Mapping[str, Any],
    defaults: Defaults | None = None,
    closed: bool = False,
    wanted_hash: str | None = None,
) -> tuple[Change, ...]:
    """Every difference between a wanted definition and a live index, with its kind and reason.

    Args:
        wanted: the create-index body the class wants (``settings``, ``mappings``).
        live: the index as ``GET /<index>`` returns it.
        defaults: the live fields' parameters with defaults (``get_field_mapping`` with
            ``include_defaults``) for the :func:`unchecked_params`.
        closed: the index is closed (changed analysis can then be applied in place).
        wanted_hash: the class's definition hash, compared with the stored one.
    """
    live_mappings = live.get("mappings", {})
    diff = _mapping_diff(wanted, live, defaults)
    changes = _field_changes(diff, wanted.get("mappings", {}), live_mappings)
    changes += _setting_changes(
        setting_differences(wanted.get("settings", {}), live.get("settings", {}).get("index", {})), closed
    )
    _, wanted_meta = _split_meta(wanted.get("mappings", {}))
    _, live_meta = _split_meta(live_mappings)
    differing = sorted(key for key, value in wanted_meta.items() if not same_value(live_meta.get(key), value))
    if differing:
        changes.append(Change("_meta", "in_place", f"_meta {', '.join(differing)} differs: updated in place"))
    stored = live_hash(live_mappings)
    if wanted_hash is not None and stored != wanted_hash:
        why = "no definition hash stored yet" if stored is None else f"stored definition hash {stored[:12]} differs"
        changes.append(Change("_meta", "in_place", f"{why}: init() records {wanted_hash[:12]}"))
    return tuple(changes)


def outcome_of(changes: Iterable[Change]) -> Outcome:
    """``"new_index"`` if any change needs one, else ``"in_place"`` if any, else ``"none"``."""
    kinds = {change.kind for change in changes}
    return "new_index" if "new_index" in kinds else "in_place" if kinds else "none"


_REMOVED = "in the index, not in the model: stored data the model no longer reads; a field cannot be removed in place"
_REMOVED_MULTI_FIELD = (
    "a multi-field in the index, not in the model: indexed data the model's queries no longer use; "
    "a field cannot be removed in place"
)


def _field_changes(diff: MappingDiff, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[Change]:
    changes = [
        Change(path, "in_place", "new multi-field: added in place; documents already stored are not indexed "
               "into it until written again")
        if _is_multi_field(wanted, path) else Change(path, "in_place", "new field: added in place")
        for path in diff.added
    ]
    for entry in diff.changed:
        path, _, param = entry.rpartition(".")
        if not path:  # a mapping option: dynamic, date_detection, ...
            changes.append(Change(entry, "in_place", f"mapping option {entry} differs: updated in place"))
            continue
        why = _IN_PLACE_BECAUSE.get(param, "updated in place")
        changes.append(Change(path, "in_place", f"{param} differs: updated in place, {why}"))
    changes += [_conflict_change(conflict) for conflict in diff.conflicting]
    changes += [
        Change(path, "new_index", _REMOVED_MULTI_FIELD if _is_multi_field(live, path) else _REMOVED)
        for path in diff.removed
    ]
    changes += [
        Change(entry.rpartition(".")[0], "in_place",
               f"{entry.rpartition('.')[2]} is not reported by Elasticsearch: init() sends it and Elasticsearch decides")
        for entry in diff.unchecked
    ]
    return changes


def _is_multi_field(mappings: Mapping[str, Any], path: str) -> bool:
    """Whether ``path`` names a multi-field (``title.raw``) in ``mappings``, not an object's property."""
    node: Mapping[str, Any] = mappings
    *parents, name = path.split(".")
    for part in parents:
        node = node.get("properties", {}).get(part) or node.get("fields", {}).get(part) or {}
    return name in node.get("fields", {})


def _conflict_change(conflict: FieldConflict) -> Change:
    if not conflict.param:  # a mapping option such as _source
        return Change(
            conflict.path, "new_index",
            f"mapping option {conflict.path} {conflict.live!r} -> {conflict.wanted!r}: fixed when the index is created",
        )
    if conflict.param == "type" and {conflict.live, conflict.wanted} == _OBJECT_KINDS:
        why = "nested documents are stored apart from their parent; the layout cannot change in place"
        return Change(conflict.path, "new_index", f"{conflict.live} -> {conflict.wanted}: {why}")
    why = _FIXED_BECAUSE.get(conflict.param, "fixed when the field is created")
    if conflict.param == "type":
        return Change(conflict.path, "new_index", f"type {conflict.live} -> {conflict.wanted}: {why}")
    return Change(conflict.path, "new_index", f"{conflict.param} {conflict.live!r} -> {conflict.wanted!r}: {why}")


def _setting_changes(differences: list[SettingDifference], closed: bool) -> list[Change]:
    changes = []
    for difference in differences:
        key, have, want = difference.key, difference.live, difference.wanted
        if key.startswith("analysis."):
            state = "is new" if have is None else "differs"
            if closed:
                changes.append(Change(key, "in_place", f"{key} {state}: applied while the index is closed; "
                                      "text already indexed keeps the old analysis"))
            else:
                changes.append(Change(key, "new_index", f"{key} {state}: the analysis of an open index cannot "
                                      "change, and stored text was analyzed without it"))
            continue
        path = f"settings.index.{key}"
        if difference.static:
            why = "index sorting is fixed when the index is created" if key.startswith("sort.") else (
                "the shard count is fixed when the index is created" if key == "number_of_shards"
                else "a static setting, fixed when the index is created"
            )
            changes.append(Change(path, "new_index", f"{key} {have!r} -> {want!r}: {why}"))
        else:
            changes.append(Change(path, "in_place", f"{key} {have!r} -> {want!r}: a dynamic setting, updated in place"))
    return changes
