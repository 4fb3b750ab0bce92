"""The public surface: odm/__init__ re-exports by name, sorted, complete, nothing private."""

from __future__ import annotations

import importlib
import pkgutil
import types

import odm


def test_all_is_sorted_and_unique() -> None:
    assert odm.__all__ == sorted(set(odm.__all__))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in odm.__all__ if not hasattr(odm, name)]
    assert missing == []


def test_every_public_class_and_function_of_odm_is_exported() -> None:
    not_exported = []
    for info in pkgutil.iter_modules(odm.__path__):
        # tools and extras, not core API; odm.aggs is its own namespace (its Terms, Nested, Range
        # would clash with the field classes odm exports)
        if info.name.startswith("_") or info.name in {"aggs", "cli", "fastapi", "mypy", "testing"}:
            continue
        module = importlib.import_module(f"odm.{info.name}")
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, (type, types.FunctionType)) and name not in odm.__all__:
                not_exported.append(f"odm.{info.name}.{name}")
    assert not_exported == []


def test_nothing_private_leaks() -> None:
    assert [name for name in odm.__all__ if name.startswith("_")] == []
    unlisted = [name for name in dir(odm) if name.isidentifier() and not name.startswith("_") and name not in odm.__all__]
    # what is left are the submodules themselves (odm.search, odm.document, ...)
    assert all(isinstance(getattr(odm, name), types.ModuleType) for name in unlisted), unlisted
