"""Compare the settings an index definition wants with the live ones: what to apply, what conflicts.

Live settings come back flat (``mapping.total_fields.limit``), without the ``index.``
prefix and with every value a string; definitions may nest, prefix and use numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .mapping_diff import same_value

__all__ = ["SettingDifference", "diff_settings", "setting_differences"]

#: Settings Elasticsearch only takes when an index is created (``sort.*`` and ``store.*`` too).
_STATIC_SETTINGS = frozenset(
    {
        "number_of_shards",
        "number_of_routing_shards",
        "codec",
        "routing_partition_size",
        "soft_deletes.enabled",
        "load_fixed_bitset_filters_eagerly",
        "shard.check_on_startup",
        "mode",
    }
)
_STATIC_PREFIXES = ("sort.", "store.", "similarity.")


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"index": {"mapping": {"total_fields": {"limit": 5}}}}`` -> ``{"mapping.total_fields.limit": 5}``.

    ``analysis`` stays one nested entry; the ``index.`` prefix is dropped, as in live settings.
    """
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}".removeprefix("index.")
        if name == "index" and isinstance(value, Mapping):
            flat.update(_flatten(value))
        elif isinstance(value, Mapping) and name != "analysis":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class SettingDifference(NamedTuple):
    """One wanted setting the live index does not have as wanted."""

    key: str  #: flat, without ``index.`` (``"number_of_shards"``, ``"analysis.analyzer.folded"``)
    live: Any  #: ``None`` when the index does not have it
    wanted: Any
    static: bool  #: taken only when the index is created (analysis: or while it is closed)


def setting_differences(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[SettingDifference]:
    """Every wanted setting (and analysis entry) that differs from the live one, in order."""
    differences: list[SettingDifference] = []
    live_flat = _flatten(live)
    for key, value in _flatten(wanted).items():
        if key == "analysis":
            live_analysis = live_flat.get("analysis", {})
            differences.extend(
                SettingDifference(f"analysis.{section}.{name}", have, definition, True)
                for section, entries in value.items()
                for name, definition in entries.items()
                if not same_value(have := live_analysis.get(section, {}).get(name), definition)
            )
        elif not same_value(live_flat.get(key), value):
            static = key in _STATIC_SETTINGS or key.startswith(_STATIC_PREFIXES)
            differences.append(SettingDifference(key, live_flat.get(key), value, static))
    return differences


def diff_settings(
    wanted: dict[str, Any], live: dict[str, Any], closed: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Split wanted settings into dynamic ones to apply and conflicts that cannot be applied.

    Args:
        closed: the index is closed, so changed analysis can be applied.
    """
    update: dict[str, Any] = {}
    conflicts: list[str] = []
    for difference in setting_differences(wanted, live):
        key = difference.key
        if key.startswith("analysis."):
            if closed:
                update["analysis"] = _flatten(wanted)["analysis"]
            else:
                conflicts.append(f"settings.{key}: differs from the open index")
        elif difference.static:
            conflicts.append(f"settings.{key}: the index has {difference.live!r}, the model wants {difference.wanted!r}")
        else:
            update[key] = difference.wanted
    return update, conflicts
