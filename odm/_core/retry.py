"""odm's retry policy: which failures are sent again, how long to wait, when to give up; and ids.

Pure: nothing here sends a request or sleeps. ``connections.send`` runs the loop
(one place, used by the document calls, bulk and the reads), asking this module what to
do after each attempt. ``new_id`` gives a document its id before its first send, so a
request sent again meets its own document instead of storing a second copy.
"""

from __future__ import annotations

import base64
import os
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from elastic_transport import TlsError
from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

__all__ = ["NO_RETRIES", "Attempts", "Retry", "RetryPolicy", "new_id"]


@dataclass(frozen=True, slots=True)
class Retry:
    """One re-send odm is about to make, as told to ``RetryPolicy.on_retry``.

    Attributes:
        attempt: the number of the attempt that failed, from 1 (the re-send is ``attempt + 1``).
        error: what ended it: an ``ApiError`` (429, 503), a ``ConnectionError`` or a ``ConnectionTimeout``.
        delay: the seconds odm waits before the re-send.
        may_have_been_applied: the failed attempt got no answer: the node may have applied it.
    """

    attempt: int
    error: Exception
    delay: float
    may_have_been_applied: bool


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When odm sends a request again: the one policy of every call, bulk included.

    odm sends every request with the client's own retries off (``max_retries=0``) and
    writes in a form aiohttp does not re-send (POST), so these are the only re-sends
    (docs/reliability.md). Retried: 429 and 503 answers (``statuses``), connection errors
    and timeouts. Never retried: a TLS failure, any other status (401, 403, 409, ...).

    Example: ``RetryPolicy(max_retries=5, initial_backoff=0.1, deadline=10)``, given to
    ``async_connections.create_connection(..., retry=...)``, to a call (``post.save(retry=...)``)
    or to ``bulk(retry=...)``; ``NO_RETRIES`` sends each request once.

    Attributes:
        max_retries: re-sends after the first attempt (3); 0 never re-sends.
        initial_backoff: seconds before the first re-send, doubled for each next one (0.5).
        max_backoff: the longest wait between two attempts, in seconds (30).
        jitter: each wait is drawn between the backoff and ``backoff * (1 + jitter)`` (0.5), so
            clients that failed together do not come back together; 0 waits exactly the backoff.
        deadline: no re-send starts later than this many seconds after the first attempt
            (60; ``None``: only ``max_retries`` bounds it).
        statuses: the HTTP statuses that are retried (429 rejected, 503 shards unavailable).
        on_retry: called with a :class:`Retry` before each re-send (logging, metrics, tests).
    """

    max_retries: int = 3
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    deadline: float | None = 60.0
    statuses: frozenset[int] = frozenset({429, 503})
    on_retry: Callable[[Retry], object] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial_backoff < 0 or self.max_backoff < 0 or self.jitter < 0:
            raise ValueError(f"RetryPolicy takes no negative numbers: {self!r}")
        if self.deadline is not None and self.deadline < 0:
            raise ValueError(f"RetryPolicy(deadline=...) takes seconds, not {self.deadline!r}")

    def retries(self, error: BaseException) -> bool:
        """Whether a request that failed with ``error`` may be sent again (attempts aside)."""
        if isinstance(error, TlsError):  # a certificate that fails verification will fail again
            return False
        if isinstance(error, ApiError):
            return error.status_code in self.statuses
        return isinstance(error, (ConnectionError, ConnectionTimeout))

    def backoff(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1), with jitter."""
        base = float(min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1)))
        return min(self.max_backoff, base * (1 + self.jitter * draw())) if self.jitter else base

    def next_delay(self, attempts: Attempts, error: BaseException, now: float) -> float | None:
        """The wait before re-sending after ``error``, or ``None`` if the request is not sent again."""
        return self.delay_after(attempts, now) if self.retries(error) else None

    def delay_after(self, attempts: Attempts, now: float) -> float | None:
        """The wait before another attempt of something retryable, or ``None`` once the attempts or the deadline ran out."""
        if attempts.sent > self.max_retries:
            return None
        delay = self.backoff(attempts.sent)
        if self.deadline is not None and attempts.started is not None and now + delay - attempts.started > self.deadline:
            return None
        return delay


#: Send each request once: odm re-sends nothing (and the client and aiohttp never do).
NO_RETRIES = RetryPolicy(max_retries=0)


@dataclass(slots=True)
class Attempts:
    """How often one request (or one bulk item) was sent, and whether the node may have applied it.

    Attributes:
        sent: attempts made so far (each may have reached the node).
        unanswered: of those, how many ended without an answer (a connection error or a
            timeout): each may have been applied. An answer met after one of them (a 409,
            a 404) may be the request meeting its own earlier attempt.
        started: the event loop time of the first attempt.
    """

    sent: int = 0
    unanswered: int = 0
    started: float | None = None
    lost: BaseException | None = None  # the error of the last attempt that got no answer

    @property
    def resent_after_lost_answer(self) -> bool:
        """Whether this attempt follows one that may have been applied: its answer is ambiguous."""
        return self.unanswered > 0

    def failed(self, error: BaseException) -> None:
        """Record that the last attempt ended with ``error``."""
        if isinstance(error, (ConnectionError, ConnectionTimeout)) and not isinstance(error, TlsError):
            self.unanswered += 1
            self.lost = error


# -- ids ----------------------------------------------------------------------------------

_id_lock = threading.Lock()
_id_state: list[int] = []  # [node, sequence, last millisecond]


def _reset_ids() -> None:
    # A forked child must not repeat its parent's ids: a fresh node part and sequence.
    _id_state[:] = [int.from_bytes(os.urandom(6), "big"), int.from_bytes(os.urandom(3), "big"), 0]


_reset_ids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_ids)

_ID_LAYOUT = struct.Struct(">6s3s6s")


def new_id() -> str:
    """A new document id: 20 URL-safe characters, time-ordered, as Elasticsearch makes its own.

    15 bytes, base64url without padding: the time in milliseconds (6 bytes, big-endian,
    never going back within a process), a sequence number (3 bytes, from a random start,
    one more per id), and a random node part (6 bytes, drawn once per process and again
    after a fork). Ids from one process never repeat; from two processes they differ
    by 48 random bits.
    """
    with _id_lock:
        node, sequence, last = _id_state
        now = max(time.time_ns() // 1_000_000, last)
        sequence = (sequence + 1) & 0xFFFFFF
        if sequence == 0 and now == last:  # the sequence wrapped within a millisecond: move on one
            now += 1
        _id_state[1], _id_state[2] = sequence, now
    raw = _ID_LAYOUT.pack(now.to_bytes(6, "big"), sequence.to_bytes(3, "big"), node.to_bytes(6, "big"))
    return base64.urlsafe_b64encode(raw).decode("ascii")
