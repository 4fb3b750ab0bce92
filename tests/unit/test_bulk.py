"""Bulk writes: NDJSON bodies, accounting of every input, retries, back-pressure, cancellation.

The server is a scripted node behind a real client (tests/unit/fake_node.py): the
429 rejections, connection errors and slow answers here cannot be caused on demand
on the test node. What the node really answers is covered in tests/integration/test_bulk.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

import elastic_transport
import orjson
import pytest
from elasticsearch import ApiError
from pydantic import AfterValidator

from odm import (
    AsyncDocument,
    BulkError,
    BulkItemError,
    BulkResult,
    CreateAction,
    DeleteAction,
    DocumentValidationError,
    IndexAction,
    InvalidIdError,
    RetryPolicy,
    UpdateAction,
    bulk,
)
from odm.bulk._actions import Defaults, encode
from odm.bulk._run import DEFAULTS, BulkRun
from tests.models.blog import Author, Post
from tests.unit.fake_node import Request, fake_client

WHEN = datetime(2026, 11, 24, 12, 0)
SOURCE = b'{"title":"T","body":"","tags":[],"author":null,"comments":[],"views":0,"created_at":"2026-11-24T12:00:00"}'


def post(id: str | None = "p1", **fields: Any) -> Post:
    values: dict[str, Any] = {"title": "T", "created_at": WHEN, **fields}
    return Post(**values, meta={"id": id} if id is not None else {})


def lines(action: Any, **defaults: Any) -> bytes:
    return encode(action, 0, Defaults(**defaults)).lines


def operations(request: Request) -> list[tuple[str, dict[str, Any]]]:
    """The (operation, header) pairs of a bulk request body."""
    decoded, found, at = request.lines(), [], 0
    while at < len(decoded):
        [(op, header)] = decoded[at].items()
        found.append((op, header))
        at += 1 if op == "delete" else 2
    return found


def answer(request: Request, status_of: Callable[[dict[str, Any]], int] = lambda header: 201) -> dict[str, Any]:
    """A bulk response: each item answered with ``status_of(header)``."""
    items = []
    for number, (op, header) in enumerate(operations(request)):
        status = status_of(header)
        info: dict[str, Any] = {"_index": header["_index"], "_id": header.get("_id", f"auto-{number}"), "status": status}
        if status < 300:
            info.update(_version=2, result="created", _seq_no=10 + number, _primary_term=3)
        else:
            info["error"] = {"type": "some_exception", "reason": f"refused {status}"}
        items.append({op: info})
    return {"took": 1, "errors": any(i[op]["status"] >= 300 for i in items for op in i), "items": items}


async def accept_all(request: Request) -> tuple[int, Any]:
    if request.path == "/_bulk":
        return 200, answer(request)
    return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}


def bulk_requests(requests: list[Request]) -> list[Request]:
    return [r for r in requests if r.path == "/_bulk"]


def positions(entries: list[Any]) -> list[int]:
    return [entry.position for entry in entries]


# -- encoding: each action as NDJSON lines ---------------------------------------------


def test_a_document_is_an_index_action_with_its_source_as_pydantic_serializes_it() -> None:
    assert lines(IndexAction(post())) == b'{"index":{"_index":"posts","_id":"p1"}}\n' + SOURCE + b"\n"


def test_a_document_without_an_id_gets_one_from_odm_and_is_sent_as_a_create() -> None:
    """A re-send of it then meets its own document (a 409 read back), never a second copy."""
    document = post(None)
    encoded = lines(IndexAction(document, pipeline="p"), index="other")
    assert document.meta.id is not None and len(document.meta.id) == 20
    assert encoded == b'{"create":{"_index":"other","_id":"%s","pipeline":"p"}}\n' % document.meta.id.encode() + SOURCE + b"\n"


def test_a_class_with_client_ids_off_leaves_the_id_to_elasticsearch() -> None:
    class Auto(Post):
        class Index:
            client_ids = False

    document = Auto(title="T", created_at=WHEN)
    assert lines(IndexAction(document, pipeline="p"), index="other") == (
        b'{"index":{"_index":"other","pipeline":"p"}}\n' + SOURCE + b"\n"
    )
    assert document.meta.id is None


def test_an_invalid_document_gets_no_id() -> None:
    document = post(None)
    document.tags.append(3)  # type: ignore[arg-type]
    with pytest.raises(DocumentValidationError):
        lines(IndexAction(document))
    assert document.meta.id is None


def test_create_routing_and_if_unchanged_go_in_the_header() -> None:
    loaded = post()
    loaded.meta.seq_no, loaded.meta.primary_term, loaded.meta.routing = 0, 1, "ann"
    assert lines(CreateAction(post(), routing="r")) == b'{"create":{"_index":"posts","_id":"p1","routing":"r"}}\n' + SOURCE + b"\n"
    assert lines(IndexAction(loaded, if_unchanged=True)).startswith(
        b'{"index":{"_index":"posts","_id":"p1","routing":"ann","if_seq_no":0,"if_primary_term":1}}\n'
    )
    with pytest.raises(ValueError, match="needs meta.seq_no"):
        lines(IndexAction(post(), if_unchanged=True))


def test_the_index_is_the_actions_then_the_bulks_then_meta_then_the_class() -> None:
    stored = post()
    stored.meta.index = "posts-v2"
    assert lines(IndexAction(stored)).startswith(b'{"index":{"_index":"posts-v2"')
    assert lines(IndexAction(stored), index="posts-v3").startswith(b'{"index":{"_index":"posts-v3"')
    assert lines(IndexAction(stored, index="posts-v4"), index="posts-v3").startswith(b'{"index":{"_index":"posts-v4"')


def test_an_update_of_an_object_asks_for_the_merged_value_back_in_its_body_line() -> None:
    loaded = post(author=Author(name="Ann", email="a@x"))
    loaded.meta.seq_no, loaded.meta.primary_term, loaded.meta.index = 4, 1, "posts"
    assert lines(UpdateAction(loaded, {"author": Author(name="Bo", email="b@x")})) == (
        b'{"update":{"_index":"posts","_id":"p1","if_seq_no":4,"if_primary_term":1}}\n'
        b'{"doc":{"author":{"name":"Bo","email":"b@x"}},"_source":["author"]}\n'
    )


def test_update_sends_only_the_validated_fields_by_their_elasticsearch_names() -> None:
    assert lines(UpdateAction(post(), {"views": "7"})) == (  # no precondition: conflicts are retried
        b'{"update":{"_index":"posts","_id":"p1","retry_on_conflict":10}}\n{"doc":{"views":7}}\n'
    )
    assert lines(UpdateAction("p9", {"author": Author(name="Ann", email="a@x")}, retry_on_conflict=3), document_class=Post) == (
        b'{"update":{"_index":"posts","_id":"p9","retry_on_conflict":3}}\n'
        b'{"doc":{"author":{"name":"Ann","email":"a@x"}}}\n'
    )


def test_delete_is_a_header_only() -> None:
    assert lines(DeleteAction(post())) == b'{"delete":{"_index":"posts","_id":"p1"}}\n'
    assert lines(DeleteAction("p2", document_class=Post, routing="r")) == (
        b'{"delete":{"_index":"posts","_id":"p2","routing":"r"}}\n'
    )


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (IndexAction(post(tags=["ok"])), None, None),
        (UpdateAction(post(), {"views": "many"}), DocumentValidationError, "views: Input should be a valid integer"),
        (UpdateAction(post(), {"nope": 1}), DocumentValidationError, "nope: Extra inputs are not permitted"),
        (UpdateAction(post(), {"meta": {}}), DocumentValidationError, "meta: Extra inputs are not permitted"),
        (UpdateAction("p1", {"views": 1}), TypeError, "needs a document class"),
        (UpdateAction(post(None), {"views": 1}), ValueError, "UpdateAction needs meta.id"),
        (DeleteAction("..", document_class=Post), InvalidIdError, "'..' is not allowed"),
        (DeleteAction("p1", document_class=Post, if_unchanged=True), ValueError, "needs a document, not an id"),
        (IndexAction(post("")), InvalidIdError, "'' is not allowed"),
        (IndexAction({"title": "T"}), TypeError, "not a document: dict"),  # type: ignore[type-var]
    ],
)
def test_what_is_wrong_with_an_input_is_said_before_anything_is_sent(
    action: Any, error: type[Exception] | None, message: str | None
) -> None:
    if error is None:
        lines(action)
        return
    with pytest.raises(error, match=message):
        lines(action)


def test_a_document_changed_in_place_is_validated_from_the_bytes_to_be_sent() -> None:
    changed = post()
    changed.tags.append(5)  # type: ignore[arg-type]  # list.append is not validated by pydantic
    with pytest.raises(DocumentValidationError, match=r"'posts' \(id 'p1'\).*tags.0: Input should be a valid string"):
        lines(IndexAction(changed))
    with pytest.raises(DocumentValidationError, match="tags.0"):  # without revalidation, the serializer's check
        lines(IndexAction(changed), revalidate=False)


# -- the run: accounting, chunks, retries --------------------------------------------


async def test_every_input_is_accounted_for_in_input_order_and_meta_is_written_back() -> None:
    client, requests = fake_client(accept_all)
    invalid = post("bad")
    invalid.tags.append(1)  # type: ignore[arg-type]
    inputs: list[Any] = [post("a"), invalid, post(None), DeleteAction("gone", document_class=Post), post("..")]
    result = await Post.bulk(inputs, using=client)

    assert positions(result.succeeded) == [0, 2, 3] and positions(result.failed) == [1, 4]
    assert result.total == 5 and not result.ok and result.not_attempted == []
    first = inputs[0]
    assert (first.meta.id, first.meta.version, first.meta.seq_no, first.meta.primary_term) == ("a", 2, 10, 3)
    new_id = inputs[2].meta.id  # given by odm before the send: a re-send meets its own document
    assert len(new_id) == 20 and result.succeeded[1].id == new_id and result.succeeded[1].document is inputs[2]
    assert result.succeeded[2].document is None and result.succeeded[2].id == "gone"
    assert isinstance(result.failed[0].error, DocumentValidationError) and result.failed[0].document is invalid
    assert isinstance(result.failed[1].error, InvalidIdError)
    [request] = requests  # the invalid inputs were never sent
    assert [(op, header.get("_id")) for op, header in operations(request)] == [
        ("index", "a"), ("create", new_id), ("delete", "gone")
    ]


async def test_chunks_are_bounded_by_count_and_by_bytes() -> None:
    client, requests = fake_client(accept_all)
    await bulk([post(f"p{n}") for n in range(5)], using=client, chunk_size=2)
    assert [len(operations(r)) for r in requests] == [2, 2, 1]

    client, requests = fake_client(accept_all)
    one = len(lines(IndexAction(post("p0"))))
    result = await bulk([post(f"p{n}") for n in range(5)], using=client, max_chunk_bytes=2 * one + 1)
    assert [len(operations(r)) for r in requests] == [2, 2, 1] and result.ok
    assert all(len(r.body or b"") <= 2 * one + 1 for r in requests)


async def test_require_alias_is_sent_on_every_request_only_when_asked() -> None:
    client, requests = fake_client(accept_all)
    await bulk([post(f"p{n}") for n in range(3)], using=client, chunk_size=2, require_alias=True)
    assert [r.target for r in requests] == ["/_bulk?require_alias=true"] * 2
    client, requests = fake_client(accept_all)
    await bulk([post("p0")], using=client)
    assert [r.target for r in requests] == ["/_bulk"]


async def test_items_rejected_with_429_are_retried_alone_until_accepted() -> None:
    calls = 0

    async def reject_b_once(request: Request) -> tuple[int, Any]:
        nonlocal calls
        calls += 1
        return 200, answer(request, lambda header: 429 if header["_id"] == "b" and calls == 1 else 201)

    client, requests = fake_client(reject_b_once)
    result = await bulk([post("a"), post("b"), post("c")], using=client, initial_backoff=0)
    assert positions(result.succeeded) == [0, 1, 2] and result.ok
    assert [[h["_id"] for _, h in operations(r)] for r in requests] == [["a", "b", "c"], ["b"]]


async def test_an_item_still_rejected_after_the_retries_fails_with_its_error() -> None:
    async def always_429(request: Request) -> tuple[int, Any]:
        return 200, answer(request, lambda header: 429 if header["_id"] == "b" else 201)

    client, requests = fake_client(always_429)
    result = await bulk([post("a"), post("b")], using=client, initial_backoff=0, max_retries=2)
    assert len(requests) == 3 and positions(result.succeeded) == [0]
    [failure] = result.failed
    assert isinstance(failure.error, BulkItemError)
    assert (failure.error.status, failure.error.type, failure.error.id) == (429, "some_exception", "b")
    assert str(failure.error) == "some_exception (429) for document 'b' in index 'posts': refused 429"


async def test_items_and_requests_answered_503_are_retried_like_429() -> None:
    calls = 0

    async def shards_unavailable_once(request: Request) -> tuple[int, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return 503, {"error": {"type": "unavailable_shards_exception", "reason": "primary not active"}, "status": 503}
        return 200, answer(request, lambda header: 503 if header["_id"] == "b" and calls == 2 else 201)

    client, requests = fake_client(shards_unavailable_once)
    result = await bulk([post("a"), post("b")], using=client, initial_backoff=0)
    assert result.ok and [[h["_id"] for _, h in operations(r)] for r in requests] == [["a", "b"], ["a", "b"], ["b"]]


async def test_a_tls_verification_failure_is_not_retried() -> None:
    async def bad_certificate(request: Request) -> tuple[int, Any]:
        raise elastic_transport.TlsError("certificate verify failed")

    client, requests = fake_client(bad_certificate)
    result = await bulk([post("a")], using=client, initial_backoff=0)
    assert len(requests) == 1 and isinstance(result.failed[0].error, elastic_transport.TlsError)


def test_bulks_option_names_set_the_retry_policy() -> None:
    client, _ = fake_client(accept_all)
    run: BulkRun[Post] = BulkRun(client, {**DEFAULTS, "initial_backoff": 0.5, "max_backoff": 3, "max_retries": 7}, None)
    assert (run.policy.initial_backoff, run.policy.max_backoff, run.policy.max_retries) == (0.5, 3, 7)
    given = RetryPolicy(max_retries=1, jitter=0)
    run = BulkRun(client, {**DEFAULTS, "retry": given, "initial_backoff": 2.0}, None)
    assert run.policy == RetryPolicy(max_retries=1, jitter=0, initial_backoff=2.0)
    assert BulkRun(client, {**DEFAULTS}, None).policy == RetryPolicy()


async def test_a_whole_chunk_is_retried_after_a_connection_error_or_a_429() -> None:
    failures: list[BaseException] = [elastic_transport.ConnectionError("refused"), elastic_transport.ConnectionTimeout("slow")]

    async def flaky(request: Request) -> tuple[int, Any]:
        if failures:
            raise failures.pop(0)
        return 200, answer(request)

    client, requests = fake_client(flaky)
    result = await bulk([post("a"), post("b")], using=client, initial_backoff=0)
    assert result.ok and len(requests) == 3

    busy = [True]

    async def busy_once(request: Request) -> tuple[int, Any]:
        if busy and busy.pop():
            return 429, {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}, "status": 429}
        return 200, answer(request)

    client, requests = fake_client(busy_once)
    assert (await bulk([post("a")], using=client, initial_backoff=0)).ok and len(requests) == 2


async def test_a_request_that_fails_for_good_stops_the_bulk_and_nothing_is_lost() -> None:
    async def down(request: Request) -> tuple[int, Any]:
        raise elastic_transport.ConnectionError("refused")

    client, requests = fake_client(down)
    inputs = [post(f"p{n}") for n in range(7)]
    result = await bulk(inputs, using=client, chunk_size=2, max_concurrent_chunks=1, initial_backoff=0, max_retries=1)
    assert len(requests) == 2  # one chunk, tried twice
    assert positions(result.failed) == [0, 1] and positions(result.not_attempted) == [2, 3, 4, 5, 6]
    assert isinstance(result.failed[0].error, elastic_transport.ConnectionError)
    assert result.not_attempted[0].document is inputs[2] and result.total == 7

    async def bad_request(request: Request) -> tuple[int, Any]:
        return 400, {"error": {"type": "illegal_argument_exception", "reason": "malformed"}, "status": 400}

    client, requests = fake_client(bad_request)
    result = await bulk(inputs, using=client, chunk_size=3, max_concurrent_chunks=1)
    assert len(requests) == 1 and positions(result.failed) == [0, 1, 2] and len(result.not_attempted) == 4
    assert isinstance(result.failed[0].error, ApiError) and result.failed[0].error.status_code == 400


async def test_stop_on_invalid_sends_nothing_more() -> None:
    client, requests = fake_client(accept_all)
    invalid = post("bad", views=1)
    invalid.comments.append("not a comment")  # type: ignore[arg-type]
    result = await bulk([post("a"), post("b"), invalid, post("c")], using=client, chunk_size=2, stop_on_invalid=True)
    assert positions(result.succeeded) == [0, 1] and positions(result.failed) == [2]
    assert positions(result.not_attempted) == [3] and len(requests) == 1


async def test_raise_on_error_raises_with_the_same_result() -> None:
    async def conflict(request: Request) -> tuple[int, Any]:
        if request.path == "/_mget":  # the create's read-back: another document is stored
            return 200, {"docs": [{"_index": "posts", "_id": i, "found": True, "_source": {"title": "other"}} for i in "ab"]}
        return 200, answer(request, lambda header: 409)

    client, _ = fake_client(conflict)
    with pytest.raises(BulkError) as caught:
        await bulk([CreateAction(post("a")), post("b", views=2)], using=client, raise_on_error=True)
    result = caught.value.result
    assert isinstance(result, BulkResult) and positions(result.failed) == [0, 1]
    assert "0 succeeded, 2 failed, 0 not attempted; first error: some_exception (409)" in str(caught.value)
    client, _ = fake_client(accept_all)
    assert (await bulk([post("a")], using=client, raise_on_error=True)).ok


async def test_an_update_is_applied_to_the_instance_only_once_elasticsearch_accepted_it() -> None:
    async def refuse_b(request: Request) -> tuple[int, Any]:
        return 200, answer(request, lambda header: 404 if header["_id"] == "b" else 200)

    client, _ = fake_client(refuse_b)
    a, b = post("a", views=1), post("b", views=1)
    result = await bulk([UpdateAction(a, {"views": "5"}), UpdateAction(b, {"views": 5})], using=client)
    assert a.views == 5 and "views" in a.model_fields_set and a.meta.seq_no == 10
    assert b.views == 1 and positions(result.failed) == [1]


async def test_refresh_is_one_request_at_the_end_for_the_indices_written() -> None:
    client, requests = fake_client(accept_all)
    await bulk([post("a"), IndexAction(post("b"), index="posts-2")], using=client, refresh=True)
    assert [r.path for r in requests] == ["/_bulk", "/posts,posts-2/_refresh"]
    client, requests = fake_client(accept_all)
    await bulk([post("a")], using=client, refresh="wait_for", chunk_size=1)
    assert [r.path for r in requests] == ["/_bulk", "/posts/_refresh"]
    client, requests = fake_client(accept_all)
    await bulk([post("a")], using=client)
    assert [r.path for r in requests] == ["/_bulk"]


async def test_progress_sees_the_live_result_after_each_chunk_and_at_the_end() -> None:
    client, _ = fake_client(accept_all)
    seen: list[tuple[int, int]] = []

    def progress(result: BulkResult[Any]) -> None:
        seen.append((len(result.succeeded), result.total))

    await bulk([post(f"p{n}") for n in range(5)], using=client, chunk_size=2, max_concurrent_chunks=1, progress=progress)
    assert seen == [(2, 2), (4, 4), (5, 5), (5, 5)]


async def test_an_async_iterable_is_read_only_as_fast_as_chunks_complete() -> None:
    gate, started, read = asyncio.Event(), [0], [0]

    async def slow(request: Request) -> tuple[int, Any]:
        started[0] += 1
        await gate.wait()
        return 200, answer(request)

    async def many() -> AsyncIterator[Post]:
        for number in range(100):
            read[0] = number + 1
            yield post(f"p{number}")

    client, requests = fake_client(slow)
    task = asyncio.create_task(bulk(many(), using=client, chunk_size=2, max_concurrent_chunks=3))
    for _ in range(50):
        await asyncio.sleep(0)
    assert started[0] == 3  # three requests in flight, no more
    assert read[0] <= 3 * 2 + 2 + 1  # what they hold, one chunk waiting, the input being taken
    gate.set()
    result = await task
    assert result.ok and result.total == 100 and positions(result.succeeded) == list(range(100))


async def test_cancelled_the_requests_in_flight_finish_and_the_rest_is_not_attempted() -> None:
    gate, started = asyncio.Event(), asyncio.Event()

    async def slow(request: Request) -> tuple[int, Any]:
        started.set()
        await gate.wait()
        return 200, answer(request)

    client, _ = fake_client(slow)
    seen: list[BulkResult[Any]] = []
    inputs = [post(f"p{n}") for n in range(6)]
    task = asyncio.create_task(bulk(inputs, using=client, chunk_size=2, max_concurrent_chunks=1, progress=seen.append))
    await started.wait()
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()  # waiting for the request in flight
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    final = seen[-1]
    assert positions(final.succeeded) == [0, 1] and positions(final.not_attempted) == [2, 3, 4, 5]
    assert inputs[0].meta.seq_no == 10


async def test_cancelled_twice_the_requests_in_flight_are_cancelled_and_their_items_failed() -> None:
    started = asyncio.Event()

    async def never(request: Request) -> tuple[int, Any]:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    client, _ = fake_client(never)
    seen: list[BulkResult[Any]] = []
    task = asyncio.create_task(bulk([post("a"), post("b")], using=client, chunk_size=1, progress=seen.append))
    await started.wait()
    for _ in range(2):
        task.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await task
    final = seen[-1]
    assert positions(final.failed) == [0, 1] and final.total == 2
    assert all(isinstance(failure.error, asyncio.CancelledError) for failure in final.failed)


def test_result_repr_and_totals() -> None:
    assert repr(BulkResult()) == "<BulkResult: 0 succeeded, 0 failed, 0 not attempted>"
    assert BulkResult().ok and BulkResult().total == 0


def _sync_documents() -> Iterator[Post]:
    yield post("g1")
    yield post("g2")


async def test_a_generator_is_an_input_too() -> None:
    client, requests = fake_client(accept_all)
    result = await Post.bulk(_sync_documents(), using=client)
    assert positions(result.succeeded) == [0, 1] and len(requests) == 1


def _no_sevens(value: int) -> int:
    if value == 7:
        raise TypeError("a bug in a validator")  # pydantic turns ValueError into errors, not TypeError
    return value


class Strict(AsyncDocument):
    numbers: list[Annotated[int, AfterValidator(_no_sevens)]] = []

    class Index:
        name = "strict"


async def test_an_input_that_raises_a_bug_while_encoding_is_accounted_for_and_stops_the_bulk() -> None:
    client, _ = fake_client(accept_all)
    buggy = Strict(meta={"id": "b"})
    buggy.numbers.append(7)  # in place: the validator runs when the bulk validates it again
    seen: list[BulkResult[Any]] = []
    with pytest.raises(TypeError, match="a bug in a validator"):
        await Strict.bulk([Strict(meta={"id": "a"}), buggy, Strict(meta={"id": "c"})], using=client, progress=seen.append)
    final = seen[-1]
    assert final.total == 3 and [f.position for f in final.failed] == [1]
    assert isinstance(final.failed[0].error, TypeError)


async def test_a_create_whose_answer_was_lost_is_confirmed_by_reading_it_back() -> None:
    stored: dict[str, Any] = {}

    async def applied_then_reset(request: Request) -> tuple[int, Any]:
        if request.path == "/_mget":
            docs = [
                {"_index": d["_index"], "_id": d["_id"], "found": d["_id"] in stored, "_version": 1, "_seq_no": 5,
                 "_primary_term": 1, **({"_source": stored[d["_id"]]} if d["_id"] in stored else {})}
                for d in orjson.loads(request.body or b"{}")["docs"]
            ]
            return 200, {"docs": docs}
        lines = request.lines()
        if not stored:  # the first attempt is applied, then the connection breaks
            for header, source in zip(lines[::2], lines[1::2]):
                stored[header["create"]["_id"]] = source
            stored["other"] = {"title": "somebody else's", "created_at": "2026-01-01T00:00:00"}
            raise elastic_transport.ConnectionError("connection reset by peer")
        return 200, answer(request, lambda header: 409)

    client, _ = fake_client(applied_then_reset)
    mine, theirs = post("mine"), post("other")
    result = await bulk([CreateAction(mine), CreateAction(theirs)], using=client, initial_backoff=0)
    [success] = result.succeeded
    assert success.document is mine and success.confirmed and success.result == "created"
    assert mine.meta.seq_no == 5  # the stored document's tokens, read back
    [failure] = result.failed  # a document with other content is a true conflict
    assert failure.document is theirs and isinstance(failure.error, BulkItemError) and failure.error.status == 409
