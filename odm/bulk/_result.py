"""What a bulk write did with each input: succeeded, failed, or not attempted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from ..errors import BulkError, BulkItemError
from ._actions import BulkAction, document_of

if TYPE_CHECKING:
    from ..document import AsyncDocument

__all__ = ["BulkError", "BulkFailure", "BulkItemError", "BulkNotAttempted", "BulkResult", "BulkSuccess"]

D = TypeVar("D", bound="AsyncDocument", default="AsyncDocument")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[D]):
    position: int
    action: BulkAction[D]

    @property
    def document(self) -> D | None:
        """The document instance of the action, if it was given one (not for an id)."""
        return document_of(self.action)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BulkSuccess(_Entry[D]):
    """An input Elasticsearch applied; its document's ``meta`` has the new id, version, seq_no.

    Attributes:
        position: its place in the input, from 0.
        result: ``"created"``, ``"updated"``, ``"deleted"`` or ``"noop"``.
        confirmed: Elasticsearch answered a create with 409, and the stored document was
            read back and is identical to this input: most often the request had been
            sent again after its answer was lost (a connection reset) and its first
            attempt wrote it; or an identical document was there already (a load run
            twice). Either way the index holds exactly this input.
    """

    index: str
    id: str
    result: str
    version: int | None = None
    seq_no: int | None = None
    primary_term: int | None = None
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class BulkFailure(_Entry[D]):
    """An input that was not applied, and why.

    Attributes:
        position: its place in the input, from 0.
        error: :class:`~odm.DocumentValidationError` (never sent), :class:`BulkItemError`
            (Elasticsearch refused the item), or the exception that ended its request
            (a connection error after the retries, a cancellation: the outcome is unknown).
    """

    error: BaseException


@dataclass(frozen=True, slots=True)
class BulkNotAttempted(_Entry[D]):
    """An input that was never sent, because the bulk stopped before it.

    Attributes:
        position: its place in the input, from 0.
    """


@dataclass(eq=False)
class BulkResult(Generic[D]):
    """Every input of one bulk write, in exactly one of three lists, each in input order.

    ``len(succeeded) + len(failed) + len(not_attempted)`` is the number of inputs read.
    """

    succeeded: list[BulkSuccess[D]] = field(default_factory=list)
    failed: list[BulkFailure[D]] = field(default_factory=list)
    not_attempted: list[BulkNotAttempted[D]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many inputs are accounted for."""
        return len(self.succeeded) + len(self.failed) + len(self.not_attempted)

    @property
    def ok(self) -> bool:
        """True when every input succeeded."""
        return not self.failed and not self.not_attempted

    def sort(self) -> None:
        """Put each list in input order (chunks finish in any order)."""
        for entries in (self.succeeded, self.failed, self.not_attempted):
            entries.sort(key=_position)

    def __repr__(self) -> str:
        return (
            f"<BulkResult: {len(self.succeeded)} succeeded, {len(self.failed)} failed, "
            f"{len(self.not_attempted)} not attempted>"
        )


def _position(entry: _Entry[Any]) -> int:
    return entry.position
