"""The elasticsearch-dsl asyncio page on indexes, templates, mappings and analyzers, run against odm.

The page says: ``Index``, ``IndexTemplate`` and ``Mapping`` have asynchronous versions
named with an ``Async`` prefix, with the same interfaces and coroutines for every
method that performs I/O; a custom analyzer is run with ``async_simulate()``. The
examples below are elasticsearch-dsl's persistence and analysis examples in their
async form, with these differences, each forced by the node or the client:

- index names carry the test's prefix;
- ``delete(ignore=404)`` becomes ``if await blogs.exists(): await blogs.delete()``
  (the 9.x client deprecates transport options in API calls);
- ``Log._index.as_template(...)`` is ``Log.as_template(...)``, a composable template
  (``_index`` is private in odm, and Elasticsearch 9 deprecates legacy templates);
- the test node has no ``nGram`` tokenizer or ``html_strip``/``snowball`` filters
  (no analysis-common module), so the analyzers use the standard tokenizer and the
  lowercase, stop and shingle filters;
- ``Mapping.meta("_all", ...)`` is gone: Elasticsearch removed ``_all`` in 7.0.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Annotated, Any

import elasticsearch.dsl as dsl
import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    AsyncComposableIndexTemplate,
    AsyncDocument,
    AsyncIndex,
    AsyncIndexTemplate,
    AsyncMapping,
    Date,
    Keyword,
    Nested,
    Text,
    analyzer,
    token_filter,
    tokenizer,
)

ASYNC_PAIRS = [
    (dsl.AsyncIndex, dsl.Index, AsyncIndex),
    (dsl.AsyncIndexTemplate, dsl.IndexTemplate, AsyncIndexTemplate),
    (dsl.AsyncComposableIndexTemplate, dsl.ComposableIndexTemplate, AsyncComposableIndexTemplate),
    (dsl.AsyncMapping, dsl.Mapping, AsyncMapping),
]


@pytest.mark.parametrize(("dsl_async", "dsl_sync", "ours"), ASYNC_PAIRS)
def test_the_async_classes_have_the_same_interface_with_coroutines_for_io(
    dsl_async: type, dsl_sync: type, ours: type
) -> None:
    assert issubclass(ours, dsl_async) and ours.__name__ == dsl_async.__name__
    public = [name for name in dir(dsl_sync) if not name.startswith("_") and callable(getattr(dsl_sync, name))]
    for name in public:
        assert hasattr(ours, name), name
        if inspect.iscoroutinefunction(getattr(dsl_async, name)):
            assert inspect.iscoroutinefunction(getattr(ours, name)), name


async def test_the_index_example(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    blogs = AsyncIndex(index_prefix + "blogs")
    blogs.settings(number_of_shards=1, number_of_replicas=0)
    blogs.aliases(**{index_prefix + "old-blogs": {}})

    @blogs.document
    class Post(AsyncDocument):
        title: str

    plain_words = analyzer("plain_words", tokenizer="standard", filter=["lowercase", "stop"])
    blogs.analyzer(plain_words)

    if await blogs.exists():
        await blogs.delete()
    await blogs.create()

    live = (await blogs.get())[blogs._name]
    assert live["aliases"] == {index_prefix + "old-blogs": {}}
    assert live["mappings"] == {"properties": {"title": {"type": "text"}}}
    assert live["settings"]["index"]["analysis"]["analyzer"]["plain_words"]["filter"] == ["lowercase", "stop"]


async def test_the_index_template_example(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    class Log(AsyncDocument):
        content: str
        timestamp: datetime | None = None

        class Index:
            name = index_prefix + "logs-*"
            settings = {"number_of_shards": 2}

        async def save(self, **kwargs: Any) -> str:  # type: ignore[override]  # as the dsl docs write it
            # assign now if no timestamp given
            if not self.timestamp:
                self.timestamp = datetime.now()
            # override the index to go to the proper timeslot
            kwargs["index"] = self.timestamp.strftime(index_prefix + "logs-%Y%m%d")
            return await super().save(**kwargs)

    # once, as part of application setup, during deploy/migrations:
    logs = Log.as_template(index_prefix + "logs", priority=0)
    await logs.save()

    await Log(content="first", timestamp=datetime(2026, 11, 24)).save(refresh=True)
    await Log(content="second", timestamp=datetime(2026, 11, 25)).save(refresh=True)

    # to perform search across all logs:
    search = Log.search()
    hits = [hit async for hit in search.sort("timestamp")]
    assert [(hit.content, hit.meta.index) for hit in hits] == [
        ("first", index_prefix + "logs-20261124"),
        ("second", index_prefix + "logs-20261125"),
    ]
    live = (await odm_client.indices.get_settings(index=index_prefix + "logs-20261124"))
    assert live[index_prefix + "logs-20261124"]["settings"]["index"]["number_of_shards"] == "2"


async def test_the_mapping_example(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    m = AsyncMapping()
    m.field("title", "text")
    m.field("category", "text", fields={"raw": Keyword()})
    comment = Nested(properties={"author": Text(), "created_at": Date()})
    m.field("comments", comment)
    await m.save(index_prefix + "my-index")

    m2 = await AsyncMapping.from_es(index_prefix + "my-index")
    assert m2.to_dict() == m.to_dict()
    m3 = AsyncMapping()
    await m3.update_from_es(index_prefix + "my-index")
    assert m3.to_dict() == m.to_dict()


async def test_the_async_simulate_example(odm_client: AsyncElasticsearch) -> None:
    my_analyzer = analyzer(
        "my_analyzer",
        tokenizer=tokenizer("short", "standard", max_token_length=3),
        filter=["lowercase", token_filter("pairs", "shingle", max_shingle_size=2, output_unigrams=False)],
    )
    response = await my_analyzer.async_simulate("Hello World!")
    tokens = [t.token for t in response.tokens]
    assert tokens == ["hel lo", "lo wor", "wor ld"]


async def test_fields_annotated_with_an_analyzer_get_it_on_init(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    plain_words = analyzer("plain_words", tokenizer="standard", filter=["lowercase", "stop"])

    class Page(AsyncDocument):
        body: Annotated[str, Text(analyzer=plain_words)]

        class Index:
            name = index_prefix + "pages"

    await Page.init()
    await Page(body="The Rise of Python", meta={"id": "p1"}).save(refresh=True)
    response = await Page.search().query("match", body="the rise").execute()
    assert [hit.meta.id for hit in response] == ["p1"]
    assert (await plain_words.async_simulate("The Rise", index=Page.index_name())).terms == ["rise"]
