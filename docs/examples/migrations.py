"""Migrations: a versioned class changes (a renamed field, a type change); plan, apply with a transform, rollback, prune."""

import asyncio
import os
from typing import Annotated, Any

from odm import AsyncDocument, Keyword, Text, apply, get_client, plan, prune, rollback

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")
STATE = PREFIX + "odm-migrations"  # where states and locks live; "odm-migrations" unless named


class Product(AsyncDocument):  # as deployed today
    name: Annotated[str, Keyword()]
    price: int  # in cents

    class Index:
        name = PREFIX + "products"  # the alias users query; the data is in products-v1, -v2, ...
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


class ProductV2(AsyncDocument):  # the next release: "name" is now full text "title", prices in euros
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    price: float

    class Index:
        name = PREFIX + "products"
        versioned = True
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def to_v2(source: dict[str, Any]) -> dict[str, Any] | None:
    """An old _source -> the new one; None drops the document."""
    if source["name"] == "discontinued":
        return None
    return {"title": source["name"], "price": source["price"] / 100}


def to_v1(source: dict[str, Any]) -> dict[str, Any]:
    """For a rollback: a document written after the swap, back in the old shape."""
    return {"name": source["title"], "price": round(source["price"] * 100)}


async def main() -> None:
    await Product.init()  # creates products-v1 behind the alias products
    items = [("p1", "kettle", 2999), ("p2", "teapot", 1850), ("p3", "discontinued", 100)]
    await Product.bulk([Product(name=n, price=c, meta={"id": i}) for i, n, c in items], refresh=True)

    print(await plan(ProductV2, state_index=STATE))  # what apply would do; writes nothing
    # products: migrate from products-v1 to products-v2, through ProductV2
    #   new_index title: ... (one line per change, with its reason)

    result = await apply(ProductV2, transform=to_v2, state_index=STATE)
    print(result)  # products: migrated products-v1 -> products-v2: 2 copied of 3, 0 caught up, 0 invalid, 1 dropped in ... s
    assert result.dropped == ("p3",)
    kettle = await ProductV2.get("p1")  # through the alias, now on products-v2
    assert (kettle.title, kettle.price, kettle.meta.index) == ("kettle", 29.99, PREFIX + "products-v2")
    assert (await apply(ProductV2, transform=to_v2, state_index=STATE)).outcome == "nothing"  # done already

    # After the swap the new release writes; then it is rolled back. Its writes are kept:
    await ProductV2(title="mug", price=7.5, meta={"id": "p4"}).save(refresh=True)
    back = await rollback(ProductV2, previous=Product, transform=to_v1, state_index=STATE)
    print(back)  # products: rolled back products-v2 -> products-v1: 1 documents changed since the swap copied back ...
    mug = await Product.get("p4")
    assert (mug.name, mug.price, mug.meta.index) == ("mug", 750, PREFIX + "products-v1")

    pruned = await prune(ProductV2, keep=0, state_index=STATE)  # unused versions odm made for the alias
    print(pruned)  # products: deleted products-v2 / kept products-v1: live (behind the alias)
    assert pruned.deleted == (PREFIX + "products-v2",)
    aliases = await get_client().indices.get_alias(name=Product.index_name())
    assert list(aliases) == [PREFIX + "products-v1"]


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
