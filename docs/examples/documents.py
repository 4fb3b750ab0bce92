"""Documents and mappings: declare a model, look at its mapping, create the index."""

import asyncio
import os
from datetime import datetime
from decimal import Decimal
from enum import Enum
from ipaddress import IPv4Address
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from odm import AsyncDocument, Keyword, Text

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")


class Status(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Address(BaseModel):  # a plain pydantic model -> "object"
    city: Annotated[str, Keyword()]
    ip: IPv4Address | None = None


class Line(BaseModel):
    sku: Annotated[str, Keyword()]
    price: Decimal  # -> double; the JSON keeps the exact decimal text


class Order(AsyncDocument):
    order_id: UUID  # -> keyword
    customer: Annotated[str, Text(fields={"raw": Keyword()})]
    status: Status = Status.DRAFT  # -> keyword
    channel: Literal["web", "shop"] = "web"  # -> keyword
    address: Address | None = None  # -> object
    lines: list[Line] = []  # list of models -> nested
    placed_at: datetime  # -> date
    total_cents: int = Field(default=0, alias="totalCents")  # the alias names the ES field

    class Index:
        name = PREFIX + "orders"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    mapping = Order.mapping_dict()
    assert mapping["properties"]["lines"]["type"] == "nested"
    assert mapping["properties"]["totalCents"] == {"type": "long"}
    print(mapping["properties"]["status"], mapping["properties"]["address"])
    await Order.init()  # creates the index; run again, it applies new fields only
    await Order.init()


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
