"""Connections: one default client, named aliases, and closing them all on shutdown."""

import asyncio
import os

from elasticsearch import AsyncElasticsearch

from odm import AsyncConnections, AsyncSearch


async def main() -> None:
    url = os.environ.get("ODM_ES_URL", "http://127.0.0.1:9200")
    connections = AsyncConnections()  # in an application: `from odm import async_connections`
    connections.create_connection(hosts=[url], timeout=20)  # the "default" alias
    connections.configure(default={"hosts": [url]}, reports={"hosts": [url], "timeout": 60})
    reports = connections.get_connection("reports")  # built on first use
    print(await reports.cluster.health())

    # Every call that does I/O takes using=: an alias, or a client.
    own_client = AsyncElasticsearch(hosts=[url])
    print(await AsyncSearch(using=own_client, index="_all").count())
    await own_client.close()

    await connections.close()  # closes every client it built, even replaced ones


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
