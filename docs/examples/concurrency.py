"""What is kept, and concurrency: stale writes fail, unknown stored fields survive, meta comes from code."""

import asyncio
import os
from typing import Annotated

from odm import AsyncDocument, DocumentExistsError, Keyword, VersionConflictError, get_client

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    value: int = 0

    class Index:
        name = PREFIX + "kept-counters"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Counter.init()
    await Counter(name="visits", meta={"id": "c1"}).save(refresh=True)

    # Two copies loaded at the same seq_no: the second write is stale and refused.
    a, b = await Counter.get("c1"), await Counter.get("c1")
    a.value += 1
    await a.save()
    b.value += 1
    try:
        await b.save()
    except VersionConflictError:
        b = await Counter.get("c1")  # reload, apply the change again, write
        b.value += 1
        await b.save(refresh=True)
    assert (await Counter.get("c1")).value == 2

    # A field another program wrote, unknown to the model, is kept and written back.
    client = get_client()
    raw = {"name": "likes", "value": 1, "owner": "ann"}
    await client.index(index=Counter.index_name(), id="c2", document=raw, refresh=True)
    likes = await Counter.get("c2")
    print(likes.meta.unknown_fields)  # {'owner': 'ann'}
    likes.value = 2
    await likes.save(refresh=True)
    stored = await client.get(index=Counter.index_name(), id="c2")
    assert stored["_source"] == {"name": "likes", "value": 2, "owner": "ann"}

    # Outside data (a request body) cannot set meta: the id is chosen by code.
    body = {"name": "shares", "meta": {"id": "c1"}}
    shares = Counter.model_validate(body)
    assert shares.meta.id is None
    shares.meta.id = "c1"
    try:
        await shares.save(op_type="create")  # never overwrites
    except DocumentExistsError:
        shares.meta.id = "c3"
        await shares.save(op_type="create", refresh=True)


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
