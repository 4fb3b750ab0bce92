"""Documents of issue 20's parity tests: a model field as the document id (esorm's style)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from odm import AsyncDocument, Keyword


class Product(AsyncDocument):
    """The id is the field ``sku``, kept only as ``_id`` (the default)."""

    sku: Annotated[str, Keyword()]
    name: str
    price: float = 0.0

    class Index:
        name = "products"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "sku"


class Ticket(AsyncDocument):
    """An integer id field also kept in ``_source``, as the class asks."""

    number: int
    title: str

    class Index:
        name = "tickets"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "number"
        id_in_source = True


class Device(AsyncDocument):
    """A UUID id field."""

    uid: UUID
    label: str = ""

    class Index:
        name = "devices"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "uid"


class Article(AsyncDocument):
    """An optional string id field: a new article without one gets odm's id in the field."""

    slug: Annotated[str | None, Keyword()] = None
    title: str

    class Index:
        name = "articles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "slug"


class Entry(AsyncDocument):
    """An optional string id field kept in ``_source`` too."""

    code: Annotated[str | None, Keyword()] = None
    title: str
    rank: int = 0

    class Index:
        name = "entries"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "code"
        id_in_source = True


class Order(AsyncDocument):
    """An optional integer id field: odm's ids are strings, so a new order needs its number set."""

    number: int | None = None
    title: str

    class Index:
        name = "orders"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "number"


class Legacy(AsyncDocument):
    """An optional id field in a class that keeps Elasticsearch's ids."""

    ref: Annotated[str | None, Keyword()] = None
    title: str

    class Index:
        name = "legacy"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        id_field = "ref"
        client_ids = False
