"""Index definitions over time: versioned indices behind an alias, drift, adopt.

``_versioned`` talks to the node (``init()`` of a document, ``detect_drift``); ``_adopt``
moves a concrete index behind its alias under the migration lock of ``_lock`` (a lease,
and the fence of ``_fence``); ``_drift`` is pure (sorts each difference of a class and its
live index into in place or a new index, and hashes definitions). The migrations build on
all of them. See docs/schema-drift.md.
"""

from ._adopt import adopt
from ._versioned import (
    Change,
    Drift,
    Outcome,
    definition_body,
    definition_hash,
    detect_drift,
    indices_behind,
    version_of,
    versioned_name,
)

__all__ = [
    "Change",
    "Drift",
    "Outcome",
    "adopt",
    "definition_body",
    "definition_hash",
    "detect_drift",
    "indices_behind",
    "version_of",
    "versioned_name",
]
