"""Bulk indexing through the fault proxy: odm beside ``async_streaming_bulk`` under the same faults.

Run: ``benchmarks/run faults`` (or ``python -m benchmarks.faults [--quick]``): 100,000
documents, 10,000 with ``--quick``. The node is ``$ODM_ES_URL`` if set, else the test node
``odm.testing`` starts. Every path writes the same documents, **without ids**, into a
fresh index through a fresh :class:`~odm.testing.FaultProxy` with the same seed, and
reports its time and what it says it did beside what the node holds afterwards (read
directly, not through the proxy). odm gives each document its id before the first send
(issue 18), so a re-send meets its own document; the helper's actions carry no ``_id``, so
Elasticsearch makes the ids, and a re-send of an applied request stores second copies:
"on the node" above "succeeded" counts them.

The faulty runs are done twice: with the client's own retries off (``max_retries=0``:
each library's retries alone; aiohttp still re-sends the helper's ``_bulk`` PUT once after
a reset, never odm's POST) and with the client's default retries (``max_retries=3``, which retries 429, 502, 503, 504
and connection errors at once, without backoff). Both libraries retry with the same
settings: ``max_retries=3``, ``initial_backoff=0.5`` (odm's defaults; the helper's own
``max_retries`` is 0 unless given, and it retries only 429s).
The indices (``bench-faults-*``, after ``$ODM_BENCH_INDEX_PREFIX`` if set) are deleted at the end.
"""

import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_streaming_bulk

from benchmarks._data import NAMES, OdmArticle, article_sources
from benchmarks._timing import machine
from odm.testing import ensure_node
from odm.testing.faults import (
    Fault,
    FaultProxy,
    Latency,
    Reject429,
    RejectBulkItems,
    ResetAfterForwarding,
    ResetBeforeForwarding,
    Unavailable503,
)

PREFIX = NAMES + "bench-faults-"
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}
SEED = 20261130
BULK = r"/_bulk$"
RETRIES: dict[str, Any] = {"max_retries": 3, "initial_backoff": 0.5}
# Per _bulk request. Documents without ids: a re-send of an applied request stores a second copy
# unless the document got its id before the first send (odm).
FAULTS: list[Fault] = [
    RejectBulkItems(probability=0.2, item_probability=0.05, path=BULK),
    Reject429(probability=0.03, path=BULK),
    Unavailable503(probability=0.03, path=BULK),
    ResetBeforeForwarding(probability=0.02, path=BULK),
    ResetAfterForwarding(probability=0.02, path=BULK),
    Latency(probability=0.2, seconds=0.005, jitter=0.01, path=BULK),
]
NO_CLIENT_RETRIES: dict[str, Any] = {"max_retries": 0}
CLIENT_RETRIES: dict[str, Any] = {"max_retries": 3, "retry_on_timeout": True}


@dataclass
class Outcome:
    """What one path reported and what the node holds after it."""

    path: str
    seconds: float
    succeeded: int
    failed: int
    not_attempted: int
    on_node: int
    faults: str
    raised: str = ""


def _describe(fault: Fault) -> str:
    """``RejectBulkItems p=0.2 item_probability=0.05``: the fault, its probability and own settings."""
    own = {k: v for k, v in vars(fault).items() if k not in ("probability", "count", "path", "method")}
    return " ".join([type(fault).__name__, f"p={fault.probability}", *(f"{k}={v}" for k, v in own.items())])


async def _fresh_index(direct: AsyncElasticsearch, name: str) -> None:
    await direct.options(ignore_status=404).indices.delete(index=name)
    await direct.indices.create(index=name, mappings=OdmArticle.mapping_dict(), settings=SETTINGS)


async def _count(direct: AsyncElasticsearch, name: str) -> int:
    await direct.indices.refresh(index=name)
    return int((await direct.count(index=name))["count"])


# A path: writes with a client, returns (succeeded, failed, not attempted, what it raised).
Write = Callable[[AsyncElasticsearch], Awaitable[tuple[int, int, int, str]]]


def _fresh(sources: list[dict[str, Any]]) -> list[OdmArticle]:
    """New documents without ids: each odm path gets its own (odm gives them ids when written)."""
    return [OdmArticle.model_validate(source) for source in sources]


def _odm(documents: list[OdmArticle], name: str) -> Write:
    async def run(client: AsyncElasticsearch) -> tuple[int, int, int, str]:
        result = await OdmArticle.bulk(documents, using=client, index=name, **RETRIES)
        return len(result.succeeded), len(result.failed), len(result.not_attempted), ""

    return run


def _helper(documents: list[OdmArticle], name: str) -> Write:
    dicts = [document.model_dump() for document in documents]

    async def run(client: AsyncElasticsearch) -> tuple[int, int, int, str]:
        actions = ({"_index": name, "_source": s} for s in dicts)
        succeeded = failed = 0
        try:
            async for ok, _ in async_streaming_bulk(
                client, actions, chunk_size=500, raise_on_error=False, raise_on_exception=False, **RETRIES
            ):
                succeeded += ok
                failed += not ok
        except Exception as error:  # a connection error ends the helper: the rest is not reported
            return succeeded, failed, len(documents) - succeeded - failed, type(error).__name__
        return succeeded, failed, 0, ""

    return run


async def _run(
    direct: AsyncElasticsearch,
    url: str,
    label: str,
    name: str,
    write: Write,
    faults: list[Fault] | None,
    client_options: dict[str, Any],
) -> Outcome:
    """One timed path into a fresh index; ``faults`` None: straight to the node, no proxy."""
    await _fresh_index(direct, name)
    async with FaultProxy(url, seed=SEED, faults=faults or []) as proxy:
        target = url if faults is None else proxy.url
        client = AsyncElasticsearch(target, request_timeout=120, **client_options)
        try:
            gc.collect()
            start = time.perf_counter()
            succeeded, failed, skipped, raised = await write(client)
            seconds = time.perf_counter() - start
        finally:
            await client.close()
    summary = "" if faults is None else proxy.stats.summary()
    return Outcome(label, seconds, succeeded, failed, skipped, await _count(direct, name), summary, raised)


def _print(title: str, count: int, outcomes: list[Outcome], baseline: float) -> None:
    print(f"\n## {title} ({count:,} documents)\n")
    print("| path | s | docs/s | × fault-free odm | succeeded | failed | not attempted | on the node |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for o in outcomes:
        skipped = f"{o.not_attempted:,}" + (f" ({o.raised})" if o.raised else "")
        print(
            f"| {o.path} | {o.seconds:.2f} | {count / o.seconds:,.0f} | {o.seconds / baseline:.2f} "
            f"| {o.succeeded:,} | {o.failed:,} | {skipped} | {o.on_node:,} |"
        )
    faulty = [o for o in outcomes if o.faults]
    if faulty:
        print()
        for o in faulty:
            print(f"- {o.path}: {o.faults}")


async def run(quick: bool) -> None:
    node = ensure_node()
    count = 10_000 if quick else 100_000
    print(f"# odm under faults: bulk indexing through odm.testing.FaultProxy\n\nmachine: {machine()}")
    print(f"Elasticsearch {node.version} at {node.url}; seed {SEED}; chunks of 500; retries {RETRIES}")
    print("faults per _bulk request: " + ", ".join(_describe(f) for f in FAULTS))
    sources = article_sources(count)
    documents = _fresh(sources)  # the helper's (it reads them only)
    direct = AsyncElasticsearch(node.url, request_timeout=120)
    names = [f"{PREFIX}{n}" for n in range(8)]
    try:
        # A warm-up round on a tenth of the documents, not recorded. Each odm path writes new
        # documents (a document written before has its id and would be sent as an index, not a create).
        await _run(direct, node.url, "warm-up", names[7], _odm(_fresh(sources[: count // 10]), names[7]), [], {})
        url = node.url
        clean = [
            await _run(direct, url, "odm, straight to the node", names[0], _odm(_fresh(sources), names[0]), None, {}),
            await _run(direct, url, "odm, proxy without faults", names[1], _odm(_fresh(sources), names[1]), [], {}),
            await _run(direct, url, "helper, proxy without faults", names[2], _helper(documents, names[2]), [], {}),
        ]
        baseline = clean[1].seconds
        _print("no faults", count, clean, baseline)
        for title, options, odm_name, helper_name in (
            ("mixed faults, client retries off (max_retries=0)", NO_CLIENT_RETRIES, names[3], names[4]),
            ("mixed faults, client retries on (max_retries=3)", CLIENT_RETRIES, names[5], names[6]),
        ):
            outcomes = [
                await _run(direct, node.url, "odm bulk", odm_name, _odm(_fresh(sources), odm_name), FAULTS, options),
                await _run(
                    direct, node.url, "async_streaming_bulk", helper_name, _helper(documents, helper_name), FAULTS,
                    options,
                ),
            ]
            _print(title, count, outcomes, baseline)
    finally:
        await direct.options(ignore_status=404).indices.delete(index=names)
        await direct.close()


if __name__ == "__main__":
    asyncio.run(run("--quick" in sys.argv))
