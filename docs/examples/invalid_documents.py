"""Stored documents the model rejects: raise (the default), skip with a log line, or collect."""

import asyncio
import enum
import os
from typing import Annotated

from odm import AsyncDocument, HitValidationError, Keyword, async_connections

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Category(str, enum.Enum):
    BOOKS = "books"
    TOYS = "toys"  # "garden" was removed; another service still writes it


class Product(AsyncDocument):
    name: Annotated[str, Keyword()]
    category: Category
    price: int

    class Index:
        name = PREFIX + "invalid-products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    await Product.init()
    for n in range(5):
        await Product(name=f"book {n}", category=Category.BOOKS, price=10 + n, meta={"id": f"b{n}"}).save()
    raw_client = async_connections.get_connection()  # another service, writing around the model
    stored = {"name": "rake", "category": "garden", "price": 1}
    await raw_client.index(index=Product.index_name(), id="rake", document=stored, refresh=True)

    s = Product.search().sort("price")
    try:
        await s.execute()  # the default: raise, naming index, id and field
    except HitValidationError as error:
        print(error)  # hit 'rake' in index '...' is not a valid Product: category: Input should be ...

    skipped = await s.on_invalid("skip").execute()  # left out, logged as a WARNING on logger "odm"
    assert [p.name for p in skipped.hits] == [f"book {n}" for n in range(5)]
    assert skipped.hits.total.value == 6  # Elasticsearch's count: the skipped one included

    collected = await s.on_invalid("collect").execute()  # left out and listed beside the valid ones
    [bad] = collected.invalid_hits
    assert (bad.id, bad.source) == ("rake", stored)
    print(bad.index, bad.id, [(e["loc"], e["msg"]) for e in bad.errors])

    everything = s.on_invalid("collect")
    names = [p.name async for p in everything.iterate()]  # also scan() and async for
    assert len(names) == 5 and [hit.id for hit in everything.invalid_hits] == ["rake"]


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
