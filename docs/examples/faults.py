"""Testing retries: a fault-injecting proxy between odm and Elasticsearch."""

import asyncio
import os
from typing import Annotated

from elasticsearch import AsyncElasticsearch

from odm import AsyncDocument, CreateAction, Keyword
from odm.testing import FaultProxy
from odm.testing.faults import Latency, Reject429, RejectBulkItems, ResetAfterForwarding, Unavailable503

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")
BULK = r"/_bulk$"


class Event(AsyncDocument):
    kind: Annotated[str, Keyword()]
    n: int

    class Index:
        name = PREFIX + "fault-events"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    url = os.environ.get("ODM_ES_URL", "http://127.0.0.1:9200")
    await Event.init()  # straight to the node, through the default connection
    faults = [
        ResetAfterForwarding(count=1, path=BULK),  # the first bulk is applied, and its answer lost
        Unavailable503(count=1, path=BULK),  # then one 503 for a whole request
        RejectBulkItems(probability=0.5, item_probability=0.1, path=BULK),  # 429 items, never applied
        Reject429(probability=0.1, path=BULK),
        Latency(probability=0.2, seconds=0.01),
    ]
    events = [Event(kind="signup", n=n, meta={"id": f"e{n}"}) for n in range(200)]
    async with FaultProxy(url, seed=7, faults=faults) as proxy:
        client = AsyncElasticsearch(proxy.url, max_retries=0)  # the client retries nothing: odm does
        try:
            result = await Event.bulk(
                [CreateAction(event) for event in events],
                using=client,
                chunk_size=50,
                max_concurrent_chunks=1,  # one request at a time: the same faults at every run
                initial_backoff=0.01,
            )
        finally:
            await client.close()
    print(result)  # <BulkResult: 200 succeeded, 0 failed, 0 not attempted>
    print(proxy.stats.summary())
    # 10 requests on 2 connections, 8 forwarded; injected: bulk_item_429 2, latency 1, reject_429 1,
    # reset_after 1, unavailable_503 1, 12 bulk items rejected
    confirmed = [success.position for success in result.succeeded if success.confirmed]
    print(len(confirmed))  # 50: the first chunk's creates, answered 409 when sent again, read back: their own
    assert proxy.stats.injected["reset_after"] == 1 and proxy.stats.injected["unavailable_503"] == 1

    await Event._index.refresh()  # read straight from the node: each event exactly once
    print(await Event.search().count())  # 200


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
