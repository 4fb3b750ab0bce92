"""``NOT_GIVEN``: "the caller did not pass this", distinct from ``None`` and ``False``."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["NOT_GIVEN", "NotGiven", "given"]


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`; an enum so that ``is NOT_GIVEN`` narrows types."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven.NOT_GIVEN


def given(**params: Any) -> dict[str, Any]:
    """The keyword arguments that were given, to pass on to the client as they are."""
    return {key: value for key, value in params.items() if value is not NotGiven.NOT_GIVEN}
