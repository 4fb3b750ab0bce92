"""Comparing a model's mapping with the one Elasticsearch returns."""

from __future__ import annotations

from typing import Any


def without_object_type(mapping: dict[str, Any]) -> dict[str, Any]:
    """Elasticsearch leaves the implicit ``"type": "object"`` out of the mappings it returns."""
    return {
        key: without_object_type(value) if isinstance(value, dict) else value
        for key, value in mapping.items()
        if not (key == "type" and value == "object")
    }
