"""odm through a faulty network: the fault proxy (odm.testing.faults) between odm and the node.

Every check of what was written reads the node directly (``odm_client``), never through
the proxy. The bulk checks are the accounting contract of docs/reliability.md:

- every input is reported exactly once (succeeded, failed or not attempted);
- everything reported succeeded is on the node, with the content that was sent;
- nothing is on the node that the result does not report: an id on the node is a
  success, or a failure whose outcome is unknown (the exception that ended its request);
  never a refused item (``BulkItemError``), an invalid input or one not attempted.

Each test also asserts that its faults actually happened (``proxy.stats``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    NO_RETRIES,
    AsyncFacetedSearch,
    AsyncMultiSearch,
    BulkItemError,
    BulkResult,
    CreateAction,
    DeleteAction,
    DocumentValidationError,
    DocumentExistsError,
    IndexAction,
    OdmError,
    OutcomeUnknownError,
    Retry,
    RetryPolicy,
    ScrollLostError,
    TermsFacet,
    UpdateAction,
    VersionConflictError,
    async_connections,
)
from odm.testing import FaultProxy
from odm.testing.faults import (
    Fault,
    Latency,
    Reject429,
    RejectBulkItems,
    ResetAfterForwarding,
    ResetBeforeForwarding,
    Stall,
    Unavailable503,
)
from odm.testing.isolation import isolated
from tests.models.blog import Post
from tests.models.embeddings import PRECISE, Rich, rich

WHEN = datetime(2026, 11, 24, 12, 0, 0)
BULK = r"/_bulk$"
FAST_RETRIES: dict[str, Any] = {"max_retries": 8, "initial_backoff": 0.01, "max_backoff": 0.05}


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    return bound


@pytest.fixture
async def proxy(es_url: str) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(es_url, seed=20261124) as running:
        yield running
    assert running.stats.errors == []


@asynccontextmanager
async def through(proxy: FaultProxy, **options: Any) -> AsyncIterator[AsyncElasticsearch]:
    """A client of the proxy; by default the client itself retries nothing, so odm's retries are tested."""
    client = AsyncElasticsearch(proxy.url, **{"max_retries": 0, "request_timeout": 5, **options})
    try:
        yield client
    finally:
        await client.close()


async def stored(client: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    """Every document of the index, read from the node: id -> _source."""
    await client.indices.refresh(index=index)
    response = await client.search(index=index, size=10_000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


def sent(document: Post) -> dict[str, Any]:
    """The _source odm sends for a document."""
    content: dict[str, Any] = json.loads(document.to_source())
    return content


def outcome_unknown(error: BaseException) -> bool:
    """Whether a failure may have been applied: the exception that ended its request, or odm's own word."""
    return isinstance(error, OutcomeUnknownError) or not isinstance(error, (BulkItemError, OdmError))


def check_accounting(result: BulkResult[Any], inputs: Sequence[Any], on_node: dict[str, dict[str, Any]]) -> None:
    """The accounting contract, for id-bearing inputs written to a fresh index."""
    positions = sorted(e.position for e in [*result.succeeded, *result.failed, *result.not_attempted])
    assert positions == list(range(len(inputs))), "every input is reported exactly once"

    def document(position: int) -> Post:
        item = inputs[position]
        return item.document if isinstance(item, (IndexAction, CreateAction)) else item  # type: ignore[no-any-return]

    for success in result.succeeded:
        assert success.id in on_node, f"reported succeeded but not on the node: {success}"
        assert on_node[success.id] == sent(document(success.position)), f"content differs: {success.id}"
    may_be_there = {document(f.position).meta.id for f in result.failed if outcome_unknown(f.error)}
    reported = {s.id for s in result.succeeded} | may_be_there
    assert set(on_node) <= reported, f"on the node but not reported: {sorted(set(on_node) - reported)}"
    for failure in result.failed:
        if not outcome_unknown(failure.error):
            assert document(failure.position).meta.id not in on_node, f"refused but on the node: {failure}"
    for skipped in result.not_attempted:
        assert document(skipped.position).meta.id not in on_node, f"not attempted but on the node: {skipped}"


def new_posts(posts: type[Post], count: int, start: int = 0) -> list[Post]:
    return [
        posts(title=f"post {n}", views=n, tags=[f"t{n % 7}"], created_at=WHEN, meta={"id": f"p{n}"})
        for n in range(start, start + count)
    ]


# -- the proxy itself ----------------------------------------------------------------------


async def test_without_faults_the_proxy_is_transparent_and_keeps_connections_alive(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    index = f"{index_prefix}plain"
    async with through(proxy) as client, through(proxy, http_compress=True) as gzipped:
        await client.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
        await client.index(index=index, id="a", document={"n": 1}, refresh=True)
        assert (await client.get(index=index, id="a"))["_source"] == {"n": 1}
        assert await client.exists(index=index, id="a") and not await client.exists(index=index, id="b")
        operations: list[Any] = []
        for n in range(200):
            operations += [{"index": {"_index": index, "_id": f"g{n}"}}, {"n": n, "text": "x" * 500}]
        response = await gzipped.bulk(operations=operations, refresh=True)  # gzip both ways
        assert not response["errors"] and len(response["items"]) == 200
        hits = await client.search(index=index, size=0, track_total_hits=True)
        assert hits["hits"]["total"]["value"] == 201
    assert proxy.stats.requests == proxy.stats.forwarded == 7
    assert proxy.stats.connections == 2 and not proxy.stats.injected
    assert len(await stored(odm_client, index)) == 201


async def test_each_fault_does_what_it_says_on_the_node(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    index = f"{index_prefix}faults"
    await odm_client.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
    async with through(proxy, request_timeout=0.5) as client:
        # POST without an id: aiohttp re-sends an idempotent method (PUT, GET, DELETE) once
        # after a reset, by itself; POST it does not, so each fault is met exactly once.
        async def write(fault: Fault, n: int) -> BaseException | None:
            proxy.faults = [fault]
            try:
                await client.index(index=index, document={"n": n})
            except (elasticsearch.ApiError, elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout) as error:
                return error
            return None

        too_many = await write(Reject429(), 1)
        assert isinstance(too_many, elasticsearch.ApiError) and too_many.status_code == 429
        assert too_many.error == "es_rejected_execution_exception"
        unavailable = await write(Unavailable503(), 2)
        assert isinstance(unavailable, elasticsearch.ApiError) and unavailable.status_code == 503
        assert unavailable.error == "unavailable_shards_exception" and index in str(unavailable.info)
        assert isinstance(await write(ResetBeforeForwarding(), 3), elasticsearch.ConnectionError)
        assert isinstance(await write(ResetAfterForwarding(), 4), elasticsearch.ConnectionError)
        start = time.perf_counter()
        assert isinstance(await write(Stall(seconds=1.0), 5), elasticsearch.ConnectionTimeout)
        assert isinstance(await write(Stall(seconds=1.0, forward=False), 6), elasticsearch.ConnectionTimeout)
        assert time.perf_counter() - start < 1.5  # the client's timeout, not the stall, ended each
        start = time.perf_counter()
        assert await write(Latency(seconds=0.2), 7) is None
        assert time.perf_counter() - start >= 0.2

        proxy.faults = [RejectBulkItems(item_probability=0.3)]
        operations: list[Any] = []
        for n in range(20):
            operations += [{"create": {"_index": index, "_id": f"b{n}"}}, {"n": 100 + n}]
        response = await client.bulk(operations=operations)
        [event] = proxy.stats.events[-1:]
        statuses = [item["create"]["status"] for item in response["items"]]
        assert [n for n, status in enumerate(statuses) if status == 429] == list(event.items) != []
        assert {item["create"]["error"]["type"] for item in response["items"] if "error" in item["create"]} == {
            "es_rejected_execution_exception"
        }
        proxy.faults = [RejectBulkItems(item_probability=1.0)]  # all rejected: nothing is forwarded
        forwarded = proxy.stats.forwarded
        response = await client.bulk(operations=operations[:4])
        assert [item["create"]["status"] for item in response["items"]] == [429, 429]
        assert proxy.stats.forwarded == forwarded

    on_node = {source["n"] for source in (await stored(odm_client, index)).values()}
    accepted = {100 + n for n, status in enumerate(statuses) if status == 201}
    assert on_node == {4, 5, 7} | accepted  # after forwarding, forwarded stall, the latency; never the rejected
    assert proxy.stats.injected == {
        "reject_429": 1,
        "unavailable_503": 1,
        "reset_before": 1,
        "reset_after": 1,
        "stall": 2,
        "latency": 1,
        "bulk_item_429": 2,
    }
    assert proxy.stats.rejected_items == len(event.items) + 2


async def test_the_same_seed_meets_the_same_faults(es_url: str) -> None:
    faults: list[Fault] = [
        Reject429(probability=0.3),
        Latency(probability=0.3, seconds=0.001),
        ResetBeforeForwarding(probability=0.2),
    ]

    async def run(seed: int) -> list[tuple[int, str]]:
        async with FaultProxy(es_url, seed=seed, faults=faults) as proxy, through(proxy) as client:
            for _ in range(30):
                try:
                    await client.cluster.health()
                except (elasticsearch.ApiError, elasticsearch.ConnectionError):
                    pass
            return [(event.request, event.kind) for event in proxy.stats.events]

    first = await run(1)
    assert first == await run(1) and first != await run(2)
    assert {kind for _, kind in first} == {"reject_429", "latency", "reset_before"}


async def test_an_items_chance_of_rejection_does_not_depend_on_the_size_of_its_request(
    proxy: FaultProxy, index_prefix: str
) -> None:
    """A retry of one item is not rejected more often than the same item among 100."""
    index = f"{index_prefix}items"
    proxy.faults = [RejectBulkItems(probability=0.5, item_probability=0.2)]  # 10% per item
    async with through(proxy) as client:
        for n in range(100):
            await client.bulk(operations=[{"index": {"_index": index, "_id": str(n)}}, {"n": n}])
        alone = proxy.stats.rejected_items
        operations: list[Any] = []
        for n in range(1_000):
            operations += [{"index": {"_index": index, "_id": str(n)}}, {"n": n}]
        for start in range(0, 2_000, 200):
            await client.bulk(operations=operations[start : start + 200])
    together = proxy.stats.rejected_items - alone
    assert 3 <= alone <= 20 and 60 <= together <= 160
    singles = [event for event in proxy.stats.events if event.request <= 100]
    assert len(singles) == alone and all(event.items == (0,) for event in singles)  # a request without
    assert proxy.stats.forwarded == 100 - alone + 10  # a rejected item is not counted, and goes on whole


# -- bulk ----------------------------------------------------------------------------------


async def test_bulk_through_429s_resets_and_stalls_writes_everything_once(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """The faults odm recovers from today: 429 (whole and per item), resets, a stall; index actions."""
    proxy.faults = [
        Stall(count=1, seconds=1.5, path=BULK),  # past the client's 1 s timeout, applied by the node
        ResetAfterForwarding(count=1, path=BULK),
        ResetBeforeForwarding(count=1, path=BULK),
        Reject429(count=1, path=BULK),
        RejectBulkItems(probability=0.5, item_probability=0.2),
        Reject429(probability=0.1),
        ResetBeforeForwarding(probability=0.05),
        ResetAfterForwarding(probability=0.05),
        Latency(probability=0.3, seconds=0.01),
    ]
    inputs = new_posts(posts, 300)
    async with through(proxy, request_timeout=1) as client:
        result = await posts.bulk(inputs, using=client, chunk_size=25, **FAST_RETRIES)
    on_node = await stored(odm_client, posts.index_name())
    check_accounting(result, inputs, on_node)
    assert result.ok, result.failed[:3]
    assert len(on_node) == 300
    kinds = proxy.stats.injected
    assert kinds["stall"] == 1 and kinds["reset_after"] >= 1 and kinds["reset_before"] >= 1
    assert kinds["reject_429"] >= 1 and proxy.stats.rejected_items > 0


@pytest.mark.parametrize(
    "lost",
    [ResetAfterForwarding(count=1, path=BULK), Stall(count=1, seconds=1.5, path=BULK)],
    ids=["reset-after-forwarding", "stall-past-the-timeout"],
)
async def test_a_create_whose_response_was_lost_is_created_not_a_conflict(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], lost: Fault
) -> None:
    """The first attempt was applied, its answer lost; the retry meets it (409 for every create).
    (The client sends ``_bulk`` as a PUT, so aiohttp itself re-sends it once after a reset.)

    Expected (being implemented): odm reads the stored document back; the content it sent
    -> a success ("created"), meta holding the stored version and seq_no; other content
    -> a true conflict.
    """
    taken = posts(title="someone else's", created_at=WHEN, meta={"id": "p3"})
    await taken.save(using=odm_client, refresh=True)
    inputs = [CreateAction(post) for post in new_posts(posts, 6)]
    proxy.faults = [lost]
    async with through(proxy, request_timeout=1) as client:
        result = await posts.bulk(inputs, using=client, **FAST_RETRIES)
    assert proxy.stats.injected[lost.kind] == 1

    [conflict] = result.failed
    assert conflict.position == 3 and isinstance(conflict.error, BulkItemError) and conflict.error.status == 409
    assert [s.position for s in result.succeeded] == [0, 1, 2, 4, 5]
    assert {(s.result, s.confirmed) for s in result.succeeded} == {("created", True)}
    on_node = await stored(odm_client, posts.index_name())
    assert on_node.pop("p3") == sent(taken)
    check_accounting(result, inputs, on_node)
    for success in result.succeeded:
        raw = await odm_client.get(index=posts.index_name(), id=success.id)
        meta = inputs[success.position].document.meta
        assert (meta.seq_no, meta.primary_term, meta.version) == (raw["_seq_no"], raw["_primary_term"], raw["_version"])


@pytest.mark.parametrize(
    "read_back_fault",
    [Unavailable503(count=1, path=r"/_mget$"), ResetBeforeForwarding(count=2, path=r"/_mget$")],
    ids=["503", "reset"],
)
async def test_a_create_whose_read_back_fails_is_not_reported_as_refused(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], read_back_fault: Fault
) -> None:
    """The read-back that resolves a 409 crosses the same network. If it fails, the create
    may still be its own write: never a refused item (409 BulkItemError); expected: the
    read-back is retried like the bulk request, so all are created."""
    inputs = [CreateAction(post) for post in new_posts(posts, 3)]
    proxy.faults = [ResetAfterForwarding(count=1, path=BULK), read_back_fault]
    async with through(proxy) as client:
        result = await posts.bulk(inputs, using=client, **FAST_RETRIES)
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.injected[read_back_fault.kind] >= 1
    check_accounting(result, inputs, await stored(odm_client, posts.index_name()))
    assert result.ok, result.failed[:1]


async def test_a_create_meeting_an_identical_stored_document_on_its_first_attempt_is_a_conflict(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """odm sees every send (nothing below it re-sends), so a first attempt's 409 is a conflict,
    whatever the stored content: save(op_type="create") and CreateAction alike, nothing read back."""
    [same, other] = new_posts(posts, 2)
    for post in (same, other):
        await posts(**post.model_dump(), meta={"id": post.meta.id}).save(using=odm_client, refresh=True)
    other.views += 1
    async with through(proxy) as client:
        result = await posts.bulk([CreateAction(same), CreateAction(other)], using=client)
        again = posts(**same.model_dump(), meta={"id": same.meta.id})
        with pytest.raises(DocumentExistsError, match="already exists"):
            await again.save(using=client, op_type="create")
    assert not result.succeeded and [f.position for f in result.failed] == [0, 1]
    assert all(isinstance(f.error, BulkItemError) and f.error.status == 409 for f in result.failed)
    assert not proxy.stats.injected
    assert proxy.stats.reached == {("POST", "/_bulk"): 1, ("POST", f"/{posts.index_name()}/_create/p0"): 1}


@pytest.mark.parametrize("answer", [Reject429, Unavailable503], ids=["429", "503"])
async def test_a_whole_request_429_or_503_is_retried(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], answer: type[Fault]
) -> None:
    """503 is retried as 429 is (expected; being implemented): bounded, with backoff."""
    proxy.faults = [answer(count=2, path=BULK)]
    inputs = new_posts(posts, 50)
    async with through(proxy) as client:
        result = await posts.bulk(inputs, using=client, chunk_size=10, max_concurrent_chunks=1, **FAST_RETRIES)
    assert result.ok, result.failed[:1]
    assert proxy.stats.injected[answer.kind] == 2
    check_accounting(result, inputs, await stored(odm_client, posts.index_name()))


@pytest.mark.parametrize("answer", [Reject429, Unavailable503], ids=["429", "503"])
async def test_retries_of_a_429_or_503_are_bounded_and_back_off(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], answer: type[Fault]
) -> None:
    proxy.faults = [answer(path=BULK)]  # every bulk request, for ever
    inputs = new_posts(posts, 30)
    start = time.perf_counter()
    async with through(proxy) as client:
        result = await posts.bulk(
            inputs, using=client, chunk_size=10, max_concurrent_chunks=1, max_retries=2, initial_backoff=0.1
        )
    elapsed = time.perf_counter() - start
    assert proxy.stats.injected[answer.kind] == 3  # the first attempt and 2 retries, then the bulk stops
    assert elapsed >= 0.1 + 0.2
    assert [f.position for f in result.failed] == list(range(10))
    status = 429 if answer is Reject429 else 503
    assert {getattr(f.error, "status_code", None) for f in result.failed} == {status}
    assert [n.position for n in result.not_attempted] == list(range(10, 30))
    check_accounting(result, inputs, await stored(odm_client, posts.index_name()))


async def test_bulk_under_every_fault_at_once_reports_exactly_what_the_node_holds(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """Index and create actions, some invalid, under all the faults; with the expected fixes, all written."""
    proxy.faults = [
        ResetAfterForwarding(count=2, path=BULK),
        Unavailable503(count=1, path=BULK),
        ResetBeforeForwarding(count=1, path=BULK),
        Reject429(count=1, path=BULK),
        RejectBulkItems(probability=0.5, item_probability=0.2),
        Unavailable503(probability=0.05),
        Reject429(probability=0.05),
        ResetBeforeForwarding(probability=0.05),
        ResetAfterForwarding(probability=0.05),
        Latency(probability=0.3, seconds=0.01),
    ]
    inputs: list[Any] = []
    for n, post in enumerate(new_posts(posts, 300)):
        if n % 50 == 7:
            post.tags.append(n)  # type: ignore[arg-type]  # invalid, changed in place: never sent
        inputs.append(CreateAction(post) if n % 2 else post)
    async with through(proxy) as client:
        # One request at a time: the same faults meet the same requests at every run.
        result = await posts.bulk(inputs, using=client, chunk_size=25, max_concurrent_chunks=1, **FAST_RETRIES)
    on_node = await stored(odm_client, posts.index_name())
    check_accounting(result, inputs, on_node)
    assert all(isinstance(f.error, DocumentValidationError) for f in result.failed), result.failed[:3]
    assert len(result.failed) == 6 and not result.not_attempted and len(on_node) == 294
    assert any(success.confirmed for success in result.succeeded)  # creates whose answer was lost, read back
    assert {"reset_after", "unavailable_503", "reset_before", "reject_429", "bulk_item_429"} <= set(proxy.stats.injected)


@pytest.mark.parametrize("kind", ["update-loaded", "delete-loaded", "delete-by-id"])
async def test_an_update_or_delete_whose_response_was_lost_is_not_a_false_failure(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], kind: str
) -> None:
    """After odm's re-send: a write guarded by seq_no that meets a conflict may have been applied
    (OutcomeUnknownError, never a 409 BulkItemError); a delete by id that finds nothing is deleted,
    confirmed by absence."""
    assert (await posts.bulk(new_posts(posts, 1), using=odm_client, refresh=True)).ok
    loaded = await posts.get("p0", using=odm_client)
    action: Any = {
        "update-loaded": UpdateAction(loaded, {"views": 100}),
        "delete-loaded": DeleteAction(loaded),
        "delete-by-id": DeleteAction("p0"),
    }[kind]
    proxy.faults = [ResetAfterForwarding(count=1, path=BULK)]
    async with through(proxy) as client:
        result = await posts.bulk([action], using=client, **FAST_RETRIES)
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.reached[("POST", "/_bulk")] == 2
    raw = await odm_client.options(ignore_status=404).get(index=posts.index_name(), id="p0")
    if kind == "delete-by-id":
        [success] = result.succeeded
        assert (success.result, success.confirmed, success.id) == ("deleted", True, "p0")
    else:
        [failure] = result.failed
        assert isinstance(failure.error, OutcomeUnknownError) and failure.error.id == "p0"
        assert failure.error.attempts == 2 and "may have been applied" in str(failure.error)
        assert isinstance(failure.error.__cause__ or failure.error.met, BulkItemError)
    assert raw["found"] is (kind == "update-loaded") and raw.get("_source", {"views": 100})["views"] == 100


async def test_what_a_lost_answer_leaves_when_odm_resends_it(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """A document without an id gets its id from odm before the first send, so the re-send meets
    it (read back: created, once); an update sent again is a no-op; an index with an id overwrites itself."""
    assert (await posts.bulk(new_posts(posts, 1), using=odm_client, refresh=True)).ok
    index = posts.index_name()
    async with through(proxy) as client:
        proxy.faults = [ResetAfterForwarding(count=1, path=BULK)]
        result = await posts.bulk([posts(title="no id", created_at=WHEN)], using=client, **FAST_RETRIES)
        assert [(s.result, s.confirmed, s.version) for s in result.succeeded] == [("created", True, 1)]
        proxy.faults = [ResetAfterForwarding(count=1, path=BULK)]
        result = await posts.bulk([UpdateAction("p0", {"views": 10})], using=client, **FAST_RETRIES)
        assert [s.result for s in result.succeeded] == ["noop"]
        proxy.faults = [ResetAfterForwarding(count=1, path=BULK)]
        [new] = new_posts(posts, 1, start=1)
        result = await posts.bulk([new], using=client, **FAST_RETRIES)
        assert [(s.result, s.version) for s in result.succeeded] == [("updated", 2)]  # it created it, once
        proxy.faults = [ResetAfterForwarding(count=1)]
        alone = posts(title="no id either", created_at=WHEN)
        assert await alone.save(using=client, retry=RetryPolicy(initial_backoff=0.01)) == "created"
        assert alone.meta.version == 1
        proxy.faults = [ResetAfterForwarding(count=1)]
        again = posts(title="post 0", created_at=WHEN, meta={"id": "p0"})
        assert await again.update(using=client, views=11, retry=RetryPolicy(initial_backoff=0.01)) == "noop"
    assert proxy.stats.injected["reset_after"] == 5
    await odm_client.indices.refresh(index=index)
    for title in ("no id", "no id either"):
        assert (await odm_client.count(index=index, query={"term": {"title.raw": title}}))["count"] == 1
    assert (await odm_client.get(index=index, id="p0"))["_source"]["views"] == 11


# -- one document at a time ----------------------------------------------------------------


async def test_save_update_get_search_through_429_503_resets_and_a_stall_with_the_clients_retries(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """Single-document calls rely on the client's own retries (429/502/503/504, connection errors)."""
    async with through(proxy, max_retries=3, retry_on_timeout=True, request_timeout=1) as client:
        post = posts(title="first", created_at=WHEN, meta={"id": "s1"})
        proxy.faults = [Reject429(count=1), Unavailable503(count=1), ResetBeforeForwarding(count=1)]
        await post.save(using=client, refresh=True)
        proxy.faults = [Unavailable503(count=1), ResetBeforeForwarding(count=1)]
        assert await post.update(using=client, views=7, refresh=True) == "updated"
        proxy.faults = [Stall(count=1, seconds=1.5), ResetAfterForwarding(count=1), Reject429(count=1)]
        fetched = await posts.get("s1", using=client)
        assert (fetched.title, fetched.views) == ("first", 7)
        proxy.faults = [ResetAfterForwarding(count=1), Stall(count=1, seconds=1.5), Unavailable503(count=1)]
        hits = await posts.search(using=client).query("term", **{"title.raw": "first"}).execute()
        assert [hit.meta.id for hit in hits] == ["s1"]
    raw = await odm_client.get(index=posts.index_name(), id="s1")
    assert raw["_source"] == sent(fetched) and raw["_source"]["views"] == 7
    assert set(proxy.stats.injected) == {"reject_429", "unavailable_503", "reset_before", "reset_after", "stall"}


async def test_a_save_whose_response_was_lost_leaves_one_document_with_its_content(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """A save with an id is a PUT: aiohttp re-sends it once after the reset, and it overwrites itself."""
    post = posts(title="once", created_at=WHEN, meta={"id": "s1"})
    proxy.faults = [ResetAfterForwarding(count=1)]
    async with through(proxy) as client:
        await post.save(using=client)
    raw = await odm_client.get(index=posts.index_name(), id="s1")
    assert raw["_source"] == sent(post) and raw["_version"] == 2 and post.meta.version == 2
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.requests == 2


async def test_a_create_save_whose_response_was_lost_is_not_a_false_conflict(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """A create is a PUT: aiohttp re-sends it once after the reset, below the client (even with
    max_retries=0), and the re-sent create meets the first one. odm reads it back: its own."""
    post = posts(title="once", created_at=WHEN, meta={"id": "s1"})
    proxy.faults = [ResetAfterForwarding(count=1)]
    async with through(proxy) as client:
        assert await post.save(using=client, op_type="create") == "created"
    raw = await odm_client.get(index=posts.index_name(), id="s1")
    assert raw["_source"] == sent(post) and (post.meta.version, post.meta.seq_no) == (raw["_version"], raw["_seq_no"])
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.requests == 3  # create, re-sent create, read back


async def test_a_lost_create_of_a_document_with_vectors_is_not_a_false_conflict(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """Elasticsearch 9 leaves vectors out of ``_source`` and gives back float32s in its own
    digits: the read-back asks for them and compares them as the values stored."""
    embedded = isolated(Rich, index_prefix)
    await embedded.init()
    document = rich(embedded)
    proxy.faults = [ResetAfterForwarding(count=1, path=r"/_create/r1$"), ResetAfterForwarding(count=1, path=BULK)]
    async with through(proxy) as client:
        assert await document.save(using=client, op_type="create") == "created"
        result = await embedded.bulk([CreateAction(rich(embedded, "r2"))], using=client)
    assert proxy.stats.injected["reset_after"] == 2
    [success] = result.succeeded
    assert (success.id, success.result, success.confirmed) == ("r2", "created", True)
    for doc_id in ("r1", "r2"):
        raw = await odm_client.get(index=embedded.index_name(), id=doc_id, source_exclude_vectors=False)
        assert raw["_version"] == 1 and raw["_source"]["vector"] != PRECISE  # stored once, given back as float32s


@pytest.mark.parametrize("call", ["save-loaded", "update-loaded", "delete-loaded", "delete-new-instance"])
async def test_a_single_write_whose_response_was_lost_is_not_a_false_failure(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], call: str
) -> None:
    """After odm's re-send: a guarded write that meets a conflict raises OutcomeUnknownError (it was
    applied here), never VersionConflictError; a delete that finds nothing is deleted, confirmed by absence."""
    await posts(title="loaded", created_at=WHEN, meta={"id": "s1"}).save(using=odm_client, refresh=True)
    loaded = await posts.get("s1", using=odm_client)
    proxy.faults = [ResetAfterForwarding(count=1)]
    fast = RetryPolicy(initial_backoff=0.01)
    async with through(proxy) as client:
        if call == "delete-new-instance":
            deleted = await posts(title="loaded", created_at=WHEN, meta={"id": "s1"}).delete(using=client, retry=fast)
            assert (deleted.result, deleted.confirmed, deleted.version, deleted.id) == ("deleted", True, None, "s1")
        else:
            with pytest.raises(OutcomeUnknownError, match="may have been applied") as raised:
                if call == "save-loaded":
                    loaded.views = 5
                    await loaded.save(using=client, retry=fast)
                elif call == "update-loaded":
                    await loaded.update(using=client, views=5, retry=fast)
                else:
                    await loaded.delete(using=client, retry=fast)
            error = raised.value
            assert (error.index, error.id, error.attempts) == (posts.index_name(), "s1", 2)
            assert not isinstance(error, VersionConflictError) and isinstance(error.__cause__, elasticsearch.ConflictError)
            assert isinstance(error.lost, elasticsearch.ConnectionError)
    assert proxy.stats.injected["reset_after"] == 1 and sum(proxy.stats.reached.values()) == 2  # odm's two sends
    raw = await odm_client.options(ignore_status=404).get(index=posts.index_name(), id="s1")
    assert raw["found"] is call.startswith(("save", "update")) and raw.get("_source", {"views": 5})["views"] == 5


# -- odm owns every re-send ------------------------------------------------------------------


class Sends:
    """A retry policy that counts odm's re-sends: each call sends ``1 + len(retries)`` times."""

    def __init__(self, max_retries: int = 3) -> None:
        self.retries: list[Retry] = []
        self.policy = RetryPolicy(
            max_retries=max_retries, initial_backoff=0.01, max_backoff=0.05, on_retry=self.retries.append
        )

    def take(self) -> int:
        """The sends of the last call (and start counting the next one)."""
        count = 1 + len(self.retries)
        self.retries.clear()
        return count


async def test_odm_knows_how_often_each_call_reached_the_node(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """Through a client with its default retries (max_retries=3): only odm re-sends, and the sends
    it counts for each call are the requests the node got (aiohttp re-sends nothing: writes are POSTs)."""
    index = posts.index_name()
    sends = Sends()
    lost = [ResetAfterForwarding(count=1), Reject429(count=1), Unavailable503(count=1)]

    def reached(method: str, path: str) -> int:
        count = proxy.stats.reached[(method, path)]
        proxy.stats.reached.clear()
        return count

    async with through(proxy, max_retries=3, retry_on_timeout=True) as client:
        post = posts(title="counted", created_at=WHEN)
        proxy.faults = lost
        assert await post.save(using=client, retry=sends.policy) == "created"  # an id from odm, sent as a create
        assert post.meta.id is not None
        path = f"/{index}/_create/{post.meta.id}"
        # reset after forwarding, 429 and 503 (not forwarded), then a 409: its own document, read back
        assert proxy.stats.reached == {("POST", path): 2, ("GET", f"/{index}/_doc/{post.meta.id}"): 1}
        proxy.stats.reached.clear()
        assert sends.take() == 4  # the read-back was sent once
        proxy.faults = lost
        post.views = 3
        assert await post.save(using=client, retry=sends.policy, if_unchanged=False) == "updated"
        assert sends.take() == 4 and reached("POST", f"/{index}/_doc/{post.meta.id}") == 2
        proxy.faults = [Reject429(count=1), ResetBeforeForwarding(count=1)]
        assert await posts.update_by_id(post.meta.id, views=4, using=client, retry=sends.policy) == "updated"
        assert sends.take() == 3 and reached("POST", f"/{index}/_update/{post.meta.id}") == 1  # 429, reset before
        proxy.faults = [Unavailable503(count=1)]  # a read: aiohttp may re-send a GET after a reset by itself
        fetched = await posts.get(post.meta.id, using=client, retry=sends.policy)
        assert fetched.views == 4 and sends.take() == 2 and reached("GET", f"/{index}/_doc/{post.meta.id}") == 1
        proxy.faults = [ResetAfterForwarding(count=1)]
        assert len(await posts.mget([post.meta.id], using=client, retry=sends.policy)) == 1
        assert sends.take() == reached("POST", f"/{index}/_mget") == 2
        proxy.faults = [ResetAfterForwarding(count=1), Reject429(count=1)]
        result = await posts.bulk(new_posts(posts, 3), using=client, retry=sends.policy)
        assert result.ok and sends.take() == 3 and reached("POST", "/_bulk") == 2
        proxy.faults = [ResetAfterForwarding(count=1)]
        deleted = await fetched.delete(using=client, retry=sends.policy, if_unchanged=False)
        assert deleted.confirmed and sends.take() == reached("POST", "/_bulk") == 2
    assert proxy.stats.injected["reset_after"] == 5 and proxy.stats.injected["reject_429"] == 4
    assert not await posts.exists(post.meta.id, using=odm_client)


async def test_five_thousand_documents_without_ids_are_stored_once_under_resets_after_forwarding(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """Before issue 18, 2,000 of 5,000 were stored twice and reported succeeded once."""
    proxy.faults = [ResetAfterForwarding(probability=0.4, path=BULK), Latency(probability=0.3, seconds=0.005)]
    inputs = [posts(title=f"no id {n}", views=n, created_at=WHEN) for n in range(5_000)]
    async with through(proxy, max_retries=3) as client:
        result = await posts.bulk(inputs, using=client, chunk_size=250, **FAST_RETRIES)
    on_node = await stored(odm_client, posts.index_name())
    check_accounting(result, inputs, on_node)
    assert result.ok and len(on_node) == 5_000  # every one once: no second copy
    assert sorted(doc["views"] for doc in on_node.values()) == list(range(5_000))
    assert sum(s.confirmed for s in result.succeeded) >= 250  # re-sends that met their own documents
    assert proxy.stats.injected["reset_after"] >= 1
    assert proxy.stats.reached[("POST", "/_bulk")] == 20 + proxy.stats.injected["reset_after"]


# -- reads over many requests, and requests that are not idempotent ---------------------------


async def _indexed(posts: type[Post], count: int) -> set[str]:
    assert (await posts.bulk(new_posts(posts, count), refresh=True)).ok
    return {f"p{n}" for n in range(count)}


async def test_scan_pages_are_resent_after_a_refusal_and_a_lost_page_ends_the_scan(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """A scroll page moves the scroll on when the node runs it: odm re-sends one answered 429 or
    503 (it did not run), never one whose answer was lost (its hits would be skipped): ScrollLostError,
    after the hits before it, and the scroll is cleared. The client's own retries (max_retries=3) never act."""
    ids = await _indexed(posts, 25)
    scroll = ("POST", "/_search/scroll")
    sends = Sends()
    async with through(proxy, max_retries=3, retry_on_timeout=True) as client:
        search = posts.search(using=client).params(size=10).retry(sends.policy)
        proxy.faults = [Reject429(count=1, path=r"/_search/scroll$"), Unavailable503(count=1, path=r"/_search/scroll$")]
        scanned = [hit.meta.id async for hit in search.scan()]
        assert sorted(map(str, scanned)) == sorted(ids)  # every hit once
        assert len(sends.retries) == 2 and proxy.stats.received[scroll] == 5 and proxy.stats.reached[scroll] == 3
        assert proxy.stats.reached[("DELETE", "/_search/scroll")] == 1
        sends.take()
        proxy.stats.reached.clear()
        proxy.faults = [ResetAfterForwarding(count=1, path=r"/_search/scroll$")]
        seen: list[str] = []
        with pytest.raises(ScrollLostError, match="stopped after 10 hits") as raised:
            async for hit in search.scan():
                seen.append(str(hit.meta.id))
    assert len(seen) == 10 and isinstance(raised.value.lost, elasticsearch.ConnectionError)
    assert isinstance(raised.value, elasticsearch.ConnectionError) and raised.value.hits == 10
    assert sends.retries == [] and proxy.stats.reached[scroll] == 1  # the lost page was not sent again
    assert proxy.stats.reached[("DELETE", "/_search/scroll")] == 1  # the scroll was cleared


async def test_iterate_sends_its_point_in_time_and_pages_under_odms_policy(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """The open, each search_after page and the close of iterate() are re-sent by odm alone: a page
    sent again reads the same page, so every hit comes once; odm's count of its sends is what reached
    the node. The close is a DELETE, which aiohttp (not odm) may send once more after a reset; a close
    that finds the point in time gone has closed it."""
    ids = await _indexed(posts, 25)
    index = posts.index_name()
    sends = Sends()
    faults: list[Fault] = [
        ResetAfterForwarding(count=1, path=rf"^/{index}/_pit$"),
        Reject429(count=1, path=r"^/_search$"),
        ResetAfterForwarding(count=1, path=r"^/_search$"),
        Stall(count=1, seconds=1.5, path=r"^/_search$"),
    ]
    async with through(proxy, max_retries=3, request_timeout=1) as client:
        proxy.faults = faults
        search = posts.search(using=client).extra(size=10).retry(sends.policy)
        iterated = [hit.meta.id async for hit in search.iterate()]
        assert sorted(map(str, iterated)) == sorted(ids) and len(iterated) == len(ids)  # every hit exactly once
        assert set(proxy.stats.injected) == {"reset_after", "reject_429", "stall"}
        received, reached = proxy.stats.received, proxy.stats.reached
        # the open twice (its first answer lost); 4 pages (the last one empty), the first sent 4 times
        assert (reached[("POST", f"/{index}/_pit")], reached[("POST", "/_search")], reached[("DELETE", "/_pit")]) == (2, 6, 1)
        assert received[("POST", "/_search")] == 7  # and its 429, not forwarded
        assert len(sends.retries) == 4 and sum(received.values()) == 6 + len(sends.retries)  # open, pages, close
        proxy.stats.received.clear()
        proxy.stats.reached.clear()
        proxy.faults = [ResetAfterForwarding(count=1, path=r"^/_pit$")]
        assert len([hit async for hit in search.iterate()]) == len(ids)  # a close that finds it gone has closed it
        assert proxy.stats.injected["reset_after"] == 3 and proxy.stats.reached[("DELETE", "/_pit")] == 2


@pytest.mark.parametrize("operation", ["update_by_query", "delete_by_query"])
async def test_an_update_or_delete_by_query_is_never_sent_again_after_a_lost_answer(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post], operation: str
) -> None:
    """Running a by-query request twice is not running it once: after a lost answer odm raises
    OutcomeUnknownError (it may have run) and sends nothing more, even through a client with
    max_retries=3; a 429 (it did not run) is sent again. Works whether or not the node has the
    reindex module: what is counted is what reached it."""
    await _indexed(posts, 3)
    path = ("POST", f"/{posts.index_name()}/_{operation}")
    sends = Sends()

    async def run(client: AsyncElasticsearch) -> Any:
        if operation == "update_by_query":
            return await posts.update_by_query(using=client).query("term", views=1).script(
                source="ctx._source.views += 1"
            ).execute(retry=sends.policy)
        return await posts.search(using=client).query("term", views=1).retry(sends.policy).delete()

    async with through(proxy, max_retries=3, retry_on_timeout=True) as client:
        proxy.faults = [ResetAfterForwarding(count=1, path=rf"_{operation}$")]
        with pytest.raises(OutcomeUnknownError, match=f"outcome of the {operation}.*may have run") as raised:
            await run(client)
        error = raised.value
        assert (error.operation, error.index, error.id, error.attempts, error.met) == (operation, posts.index_name(), None, 1, None)
        assert isinstance(error.lost, elasticsearch.ConnectionError) and sends.retries == []
        assert proxy.stats.reached[path] == 1  # sent once: nobody sent it again
        proxy.faults = [Reject429(count=1, path=rf"_{operation}$")]
        try:
            await run(client)
        except elasticsearch.ApiError as answered:  # the node without the reindex module answers 4xx
            assert answered.status_code not in (429, 503)
    assert len(sends.retries) == 1 and proxy.stats.reached[path] == 2 and proxy.stats.received[path] == 3


# -- multi search and faceted search under a policy of their own ---------------------------


def five_failures(path: str) -> list[Fault]:
    """Four re-sends' worth of faults: more than the default policy (3 re-sends) survives."""
    return [
        ResetAfterForwarding(count=1, path=path),
        Reject429(count=1, path=path),
        Unavailable503(count=1, path=path),
        ResetBeforeForwarding(count=1, path=path),
    ]


async def test_a_multi_search_is_sent_under_its_own_policy_and_odm_counts_what_reached_the_node(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """Through a client with its default retries (max_retries=3): ``retry(NO_RETRIES)`` fails at
    the first 503, a policy of 5 re-sends outlives four faults the default policy would not, and
    the sends odm counts are the requests the node got (the client re-sends nothing)."""
    await _indexed(posts, 5)
    msearch = ("POST", "/_msearch")
    sends = Sends(max_retries=5)
    async with through(proxy, max_retries=3, retry_on_timeout=True) as client:
        ms = AsyncMultiSearch[Post](using=client).add(posts.search().filter("term", tags="t1")).add(posts.search())
        proxy.faults = [Unavailable503(count=1, path=r"/_msearch$")]
        with pytest.raises(elasticsearch.ApiError) as refused:
            await ms.retry(NO_RETRIES).execute()
        assert refused.value.status_code == 503
        assert proxy.stats.received[msearch] == 1 and proxy.stats.reached[msearch] == 0  # sent once, never forwarded
        proxy.faults = five_failures(r"/_msearch$")
        tagged, every = await ms.retry(sends.policy).execute(ignore_cache=True)
        assert [hit.meta.id for hit in tagged] == ["p1"] and len(every) == 5
        assert [r.may_have_been_applied for r in sends.retries] == [True, False, False, True]  # resets: no answer
        assert sends.take() == 5
        assert proxy.stats.received[msearch] == 1 + 5  # the NO_RETRIES one, then odm's five sends
        assert proxy.stats.reached[msearch] == 2  # the reset after forwarding and the last one
        proxy.faults = five_failures(r"/_msearch$")
        with pytest.raises(elasticsearch.ConnectionError):  # the connection's (default) policy: 3 re-sends
            await ms.execute(ignore_cache=True)
        assert proxy.stats.received[msearch] == 6 + 4
    assert proxy.stats.injected == {"unavailable_503": 3, "reset_after": 2, "reject_429": 2, "reset_before": 2}


class TaggedPosts(AsyncFacetedSearch[Post]):
    doc_types = [Post]
    facets = {"tags": TermsFacet(field="tags")}


async def test_a_faceted_search_takes_a_policy_from_its_class_or_its_constructor(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    """``retry=`` of the constructor (over the class's ``retry``) governs the search and the count."""
    await _indexed(posts, 7)
    search_path = ("POST", f"/{posts.index_name()}/_search")
    count_path = ("POST", f"/{posts.index_name()}/_count")
    sends = Sends(max_retries=5)

    alias = f"{posts.index_name()}-proxied"  # a faceted search's ``using`` is a class attribute

    class Faceted(TaggedPosts):
        using = alias
        index = posts.index_name()
        retry = sends.policy

    async with through(proxy, max_retries=3, retry_on_timeout=True) as client:
        async_connections.add_connection(alias, client)
        try:
            proxy.faults = [Unavailable503(count=1)]
            with pytest.raises(elasticsearch.ApiError) as refused:
                await Faceted(filters={"tags": "t1"}, retry=NO_RETRIES).execute()
            assert refused.value.status_code == 503 and proxy.stats.reached[search_path] == 0
            proxy.faults = five_failures(rf"^/{posts.index_name()}/_search$")
            response = await Faceted(filters={"tags": "t1"}).execute()  # the class's policy: 5 re-sends
            assert [hit.meta.id for hit in response] == ["p1"] and len(response.facets.tags) == 7
            assert sends.take() == 5 and proxy.stats.reached[search_path] == 2
            proxy.faults = [Reject429(count=1), Unavailable503(count=1)]
            assert await Faceted().count() == 7 and sends.take() == 3
            assert proxy.stats.received[count_path] == 3 and proxy.stats.reached[count_path] == 1
        finally:
            async_connections.remove_connection(alias)
    assert proxy.stats.injected["unavailable_503"] == 3 and proxy.stats.injected["reject_429"] == 2
