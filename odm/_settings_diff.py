"""Compare the settings an index definition wants with the live ones: what to apply, what conflicts.

Live settings come back flat (``mapping.total_fields.limit``), without the ``index.``
prefix and with every value a string; definitions may nest, prefix and use numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._mapping_diff import same_value

__all__ = ["diff_settings"]

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


def diff_settings(
    wanted: dict[str, Any], live: dict[str, Any], closed: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Split wanted settings into dynamic ones to apply and conflicts that cannot be applied.

    Args:
        closed: the index is closed, so changed analysis can be applied.
    """
    update: dict[str, Any] = {}
    conflicts: list[str] = []
    live_flat = _flatten(live)
    for key, value in _flatten(wanted).items():
        if key == "analysis":
            live_analysis = live_flat.get("analysis", {})
            changed = [
                f"{section}.{name}"
                for section, entries in value.items()
                for name, definition in entries.items()
                if not same_value(live_analysis.get(section, {}).get(name), definition)
            ]
            if changed and closed:
                update["analysis"] = value
            elif changed:
                conflicts.extend(f"settings.analysis.{name}: differs from the open index" for name in changed)
            continue
        if same_value(live_flat.get(key), value):
            continue
        if key in _STATIC_SETTINGS or key.startswith(_STATIC_PREFIXES):
            conflicts.append(f"settings.{key}: the index has {live_flat.get(key)!r}, the model wants {value!r}")
        else:
            update[key] = value
    return update, conflicts
