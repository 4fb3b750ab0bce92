"""The faults a :class:`~odm.testing.faults.FaultProxy` injects, and what it counts of them."""

from __future__ import annotations

import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar, Literal

__all__ = [
    "Fault",
    "FaultKind",
    "FaultStats",
    "Injection",
    "Latency",
    "Reject429",
    "RejectBulkItems",
    "ResetAfterForwarding",
    "ResetBeforeForwarding",
    "Stall",
    "Unavailable503",
]

FaultKind = Literal[
    "reject_429", "unavailable_503", "bulk_item_429", "reset_before", "reset_after", "stall", "latency"
]

# -- the faults --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Fault:
    """When a fault fires; the subclasses say what it does.

    A request is matched against the proxy's faults in order. Each fault whose ``method``
    and ``path`` match, and which has not fired ``count`` times yet, draws a number: below
    ``probability`` it fires. :class:`Latency` adds its delay and the next faults are
    still tried; any other fault decides what happens to the request, and no later fault
    is tried.

    Attributes:
        probability: the chance it fires on a matching request (1.0: every time).
        count: fire at most this many times (None: no limit). ``count=1`` with the
            default probability fires on the first matching request only.
        path: a regular expression searched for in the request's path (without the query
            string), such as ``r"/_bulk$"`` or ``r"^/posts/_doc/"``; None matches all.
        method: the HTTP method (``"POST"``), any case; None matches all.
    """

    kind: ClassVar[FaultKind]
    probability: float = 1.0
    count: int | None = None
    path: str | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, not {self.probability}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be at least 0, not {self.count}")
        if self.path is not None:
            re.compile(self.path)  # a bad pattern fails here, not in the middle of a test

    def matches(self, method: str, path: str, query: str) -> bool:
        """Whether this fault applies to a request (before the draw)."""
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass(frozen=True, kw_only=True)
class Reject429(Fault):
    """Answer 429 ``es_rejected_execution_exception`` for the whole request, as a node does
    when its indexing pressure limit or a thread pool queue is full. Nothing is forwarded."""

    kind: ClassVar[FaultKind] = "reject_429"


@dataclass(frozen=True, kw_only=True)
class Unavailable503(Fault):
    """Answer 503 ``unavailable_shards_exception`` for the whole request, as when a primary
    shard is not active (a node left, the index is recovering). Nothing is forwarded."""

    kind: ClassVar[FaultKind] = "unavailable_503"


@dataclass(frozen=True, kw_only=True)
class RejectBulkItems(Fault):
    """Reject some items of a ``_bulk`` request with 429, as a full write queue does.

    When it fires on a request, each item is chosen with ``item_probability``, on its own,
    so an item's chance of rejection is ``probability * item_probability`` whatever the
    size of the request (a retry of one item is not rejected more often). The chosen items
    are removed from the request before it is forwarded, so the node never applies them,
    and 429 ``es_rejected_execution_exception`` items are spliced into the answer at their
    positions: exactly what a real per-item rejection means. If every item is chosen,
    nothing is forwarded; if none is, the request is forwarded untouched and the fault does
    not count as fired (``count`` counts requests that had items rejected). Only ``_bulk``
    requests without ``filter_path`` match (a filtered answer has no items to splice into).

    Attributes:
        item_probability: the chance each item of a hit request is rejected.
    """

    kind: ClassVar[FaultKind] = "bulk_item_429"
    item_probability: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.item_probability <= 1.0:
            raise ValueError(f"item_probability must be between 0 and 1, not {self.item_probability}")

    def matches(self, method: str, path: str, query: str) -> bool:
        """Only ``_bulk`` requests whose answer lists every item."""
        if not path.rstrip("/").endswith("/_bulk") or "filter_path" in urllib.parse.parse_qs(query):
            return False
        return super().matches(method, path, query)


@dataclass(frozen=True, kw_only=True)
class ResetBeforeForwarding(Fault):
    """Read the request, then reset the connection (TCP RST): the node never saw it."""

    kind: ClassVar[FaultKind] = "reset_before"


@dataclass(frozen=True, kw_only=True)
class ResetAfterForwarding(Fault):
    """Forward the request and read the node's answer, then reset the connection instead of
    answering: the node applied the request, and the client cannot know it. This is the
    fault that makes a retried write meet its own first attempt."""

    kind: ClassVar[FaultKind] = "reset_after"


@dataclass(frozen=True, kw_only=True)
class Stall(Fault):
    """Hold the answer for ``seconds``, then close the connection without answering.

    Give ``seconds`` longer than the client's ``request_timeout``: the client times out
    (``ConnectionTimeout``) while the node has, by default, applied the request.

    Attributes:
        seconds: how long to hold the connection before closing it.
        forward: send the request to the node first (True) or never (False).
    """

    kind: ClassVar[FaultKind] = "stall"
    seconds: float = 60.0
    forward: bool = True


@dataclass(frozen=True, kw_only=True)
class Latency(Fault):
    """Delay the request by ``seconds`` plus a uniform draw in ``[0, jitter]``, before it is
    forwarded (or answered by another fault). Several latencies add up.

    Attributes:
        seconds: the fixed part of the delay.
        jitter: the most added at random on top.
    """

    kind: ClassVar[FaultKind] = "latency"
    seconds: float = 0.05
    jitter: float = 0.0


# -- what was injected -------------------------------------------------------------------


@dataclass(frozen=True)
class Injection:
    """One fault that fired, in the order they fired.

    Attributes:
        request: the request's number on the proxy, from 1.
        kind: which fault.
        method, path: the request's.
        items: for ``bulk_item_429``, the positions (from 0) of the rejected items.
    """

    request: int
    kind: FaultKind
    method: str
    path: str
    items: tuple[int, ...] = ()


@dataclass
class FaultStats:
    """What the proxy did, so a test can check that its faults actually happened.

    Attributes:
        connections: client connections accepted (kept alive, many requests share one).
        requests: requests received.
        forwarded: requests sent on to the node (a ``_bulk`` with items removed counts).
        received: per ``(method, path)``, the requests received (path without the query string).
        reached: per ``(method, path)``, the requests sent on to the node: how often a write
            may have been applied, to compare with what the client says it sent.
        injected: per fault kind, how many requests it hit.
        rejected_items: bulk items answered 429 without reaching the node.
        events: every injection, in order.
        errors: what went wrong in the proxy itself (a malformed request, the upstream
            unreachable); a test can assert it stays empty.
    """

    connections: int = 0
    requests: int = 0
    forwarded: int = 0
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    reached: Counter[tuple[str, str]] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    rejected_items: int = 0
    events: list[Injection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the counts of requests, forwards and each kind injected."""
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.injected.items()))
        items = f", {self.rejected_items} bulk items rejected" if self.rejected_items else ""
        injected = f"injected: {kinds or 'none'}{items}"
        return f"{self.requests} requests on {self.connections} connections, {self.forwarded} forwarded; {injected}"
