"""odm's retry policy (_core/retry) and the one send loop (_sending): what is re-sent, when, how often."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import elastic_transport
import pytest
from elasticsearch import AuthenticationException

from odm import NO_RETRIES, Retry, RetryPolicy
from odm._core.retry import Attempts, new_id
from odm._sending import send
from tests.models.blog import Post
from tests.unit.fake_node import Request, fake_client


def test_backoff_doubles_up_to_its_cap_and_jitter_only_adds() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=3, jitter=0)
    assert [policy.backoff(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(initial_backoff=0.5, max_backoff=3, jitter=0.5)
    assert [jittered.backoff(1, lambda: 1.0), jittered.backoff(1, lambda: 0.0), jittered.backoff(4, lambda: 1.0)] == [0.75, 0.5, 3.0]


def test_attempts_and_the_deadline_bound_the_retries() -> None:
    policy = RetryPolicy(max_retries=2, initial_backoff=1, jitter=0, deadline=2.5)
    error = elastic_transport.ConnectionError("reset")
    attempts = Attempts(sent=1, started=0.0)
    assert policy.next_delay(attempts, error, now=0.0) == 1
    assert policy.next_delay(Attempts(sent=2, started=0.0), error, now=1.0) is None  # 1 + 2 s would end past 2.5 s
    assert policy.next_delay(Attempts(sent=3, started=0.0), error, now=0.0) is None  # max_retries
    assert NO_RETRIES.next_delay(Attempts(sent=1, started=0.0), error, now=0.0) is None


def test_which_errors_are_retried() -> None:
    policy = RetryPolicy()
    assert policy.retries(elastic_transport.ConnectionError("reset"))
    assert policy.retries(elastic_transport.ConnectionTimeout("slow"))
    assert not policy.retries(elastic_transport.TlsError("certificate verify failed"))
    with pytest.raises(ValueError, match="no negative"):
        RetryPolicy(max_retries=-1)


def test_an_attempt_without_an_answer_makes_the_next_answer_ambiguous() -> None:
    attempts = Attempts()
    attempts.failed(elastic_transport.TlsError("bad certificate"))  # never reached the node's handler
    assert not attempts.resent_after_lost_answer
    lost = elastic_transport.ConnectionTimeout("no answer")
    attempts.failed(lost)
    assert attempts.resent_after_lost_answer and attempts.lost is lost


async def test_an_authentication_failure_is_sent_once_and_a_503_until_the_policy_stops() -> None:
    statuses = [401]

    async def answer(request: Request) -> tuple[int, Any]:
        return statuses[0], {"error": {"type": "security_exception", "reason": "no"}, "status": statuses[0]}

    client, requests = fake_client(answer)
    retries: list[Retry] = []
    policy = RetryPolicy(max_retries=2, initial_backoff=0, on_retry=retries.append)
    with pytest.raises(AuthenticationException):
        await Post(title="T", created_at=datetime(2026, 1, 1)).save(using=client, retry=policy)
    assert len(requests) == 1 and retries == []
    statuses[0] = 503
    with pytest.raises(Exception, match="503"):
        await send(client, lambda quiet: quiet.info(), policy)
    assert len(requests) == 4 and [r.attempt for r in retries] == [1, 2]
    assert not any(r.may_have_been_applied for r in retries)
    await client.close()


def test_new_ids_are_20_url_safe_characters_time_ordered_and_unique() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids) and all(len(i) == 20 for i in ids)
    assert all(set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)
    raw = [base64.urlsafe_b64decode(i) for i in ids]
    assert raw == sorted(raw)  # bytes in time order: the time leads, then a sequence
