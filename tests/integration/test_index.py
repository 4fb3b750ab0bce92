"""AsyncIndex against the real node: every API call, save() with its conflict check, aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pytest
from elasticsearch import AsyncElasticsearch, NotFoundError

from odm import (
    AsyncDocument,
    AsyncIndex,
    AsyncMapping,
    Date,
    InvalidIndexNameError,
    Keyword,
    MappingConflictError,
    Text,
    analyzer,
)
from tests.integration.live_mappings import without_object_type
from tests.models.blog import Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
async def blog(odm_client: AsyncElasticsearch, index_prefix: str) -> AsyncIndex[Post]:
    index: AsyncIndex[Post] = AsyncIndex(index_prefix + "blog")
    index.document(Post)
    await index.save()
    return index


async def test_save_creates_the_index_with_the_documents_mapping_and_settings(
    odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]
) -> None:
    assert await blog.exists()
    name = blog._name
    live = (await blog.get())[name]
    assert live["mappings"] == without_object_type(Post.mapping_dict())
    assert live["settings"]["index"]["number_of_shards"] == "1"
    assert (await blog.get_mapping())[name]["mappings"] == live["mappings"]
    assert (await blog.get_settings())[name]["settings"]["index"]["number_of_replicas"] == "0"
    await blog.save()  # a second save changes nothing and does not fail


async def test_search_yields_the_registered_document(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await Post(title="Hello index", created_at=WHEN, meta={"id": "p1"}).save(index=blog._name, refresh=True)
    posts = [post async for post in blog.search().query("match", title="hello")]
    assert [(type(post), post.meta.id) for post in posts] == [(Post, "p1")]


async def test_refresh_flush_and_analyze(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await Post(title="unrefreshed", created_at=WHEN).save(index=blog._name)
    assert (await blog.refresh())["_shards"]["failed"] == 0
    assert (await odm_client.count(index=blog._name))["count"] == 1
    assert (await blog.flush())["_shards"]["failed"] == 0
    tokens = (await blog.analyze(field="title", text="Hello World"))["tokens"]
    assert [t["token"] for t in tokens] == ["hello", "world"]


async def test_put_settings_and_put_mapping(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await blog.put_settings(settings={"refresh_interval": "5s"})
    settings = (await blog.get_settings())[blog._name]["settings"]["index"]
    assert settings["refresh_interval"] == "5s"
    await blog.put_mapping(properties={"summary": {"type": "text"}})
    assert (await blog.get_mapping())[blog._name]["mappings"]["properties"]["summary"] == {"type": "text"}
    field = await blog.get_field_mapping(fields="summary")
    assert field[blog._name]["mappings"]["summary"]["full_name"] == "summary"


async def test_alias_calls(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post], index_prefix: str) -> None:
    alias = index_prefix + "blog-read"
    assert not await blog.exists_alias(name=alias)
    await blog.put_alias(name=alias)
    assert await blog.exists_alias(name=alias)
    assert alias in (await blog.get_alias())[blog._name]["aliases"]
    await Post(title="via alias", created_at=WHEN, meta={"id": "a1"}).save(index=blog._name, refresh=True)
    assert [p.meta.id async for p in Post.search(index=alias)] == ["a1"]
    await blog.delete_alias(name=alias)
    assert not await blog.exists_alias(name=alias)


async def test_update_aliases_moves_an_alias_in_one_step(
    odm_client: AsyncElasticsearch, blog: AsyncIndex[Post], index_prefix: str
) -> None:
    alias = index_prefix + "blog-read"
    await blog.put_alias(name=alias)
    blog_v2 = blog.clone(index_prefix + "blog-v2")
    await blog_v2.save()
    await blog_v2.update_aliases([{"remove": {"index": blog._name, "alias": alias}}, {"add": {"alias": alias}}])
    assert list((await odm_client.indices.get_alias(name=alias)).body) == [blog_v2._name]


async def test_an_invalid_alias_name_sends_nothing(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    # With the raw client, DELETE /<index>/_alias/.. is normalised to DELETE /<index>/.
    with pytest.raises(InvalidIndexNameError):
        await blog.delete_alias(name="..")
    assert await blog.exists()
    assert (await blog.get_alias())[blog._name]["aliases"] == {}


async def test_clone_is_a_definition_for_another_index(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    copy = blog.clone(blog._name + "-copy")
    assert not await copy.exists()
    await copy.create()
    assert (await copy.get_mapping())[copy._name]["mappings"] == without_object_type(Post.mapping_dict())


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("stats", "indices"),
        ("segments", "indices"),
        ("validate_query", "valid"),
        ("clear_cache", "_shards"),
        ("shard_stores", "indices"),
        ("forcemerge", "_shards"),
    ],
)
async def test_the_pass_through_calls_reach_the_index(
    odm_client: AsyncElasticsearch, blog: AsyncIndex[Post], method: str, key: str
) -> None:
    assert key in await getattr(blog, method)()
    assert list(await blog.recovery()) == [blog._name]


async def test_shrink(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    wide = AsyncIndex(index_prefix + "wide").settings(number_of_shards=2, number_of_replicas=0)
    await wide.save()
    await wide.put_settings(settings={"index.blocks.write": True})
    await wide.shrink(target=index_prefix + "narrow", settings={"index.number_of_shards": 1})
    narrow = (await odm_client.indices.get_settings(index=index_prefix + "narrow"))[index_prefix + "narrow"]
    assert narrow["settings"]["index"]["number_of_shards"] == "1"


async def test_close_and_open(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await blog.close()
    assert await blog.is_closed()
    await blog.open()
    assert not await blog.is_closed()


async def test_delete(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await blog.delete()
    assert not await blog.exists()
    with pytest.raises(NotFoundError):
        await blog.delete()


async def test_load_mappings_reads_the_live_mapping_through_odm(
    odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]
) -> None:
    bare = AsyncIndex(blog._name)
    await bare.load_mappings()
    mapping = bare.get_or_create_mapping()
    assert isinstance(mapping, AsyncMapping)
    assert mapping.diff(Post.mapping_dict()).needs_update is False


async def test_an_index_on_another_connection(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    index = AsyncIndex(index_prefix + "elsewhere", using=odm_client)
    await index.save()
    assert await index.exists(using=odm_client)


# -- save(): compatible changes applied, conflicts refused before anything is sent ----


class Tagged(AsyncDocument):
    tag: Annotated[str, Keyword(doc_values=True, index=True)]
    at: Annotated[datetime, Date(format="strict_date_optional_time||epoch_millis")]
    title: Annotated[str, Text()]


async def test_explicit_default_parameters_are_no_change(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    # Elasticsearch leaves default values out of the mapping it returns.
    index: AsyncIndex[Tagged] = AsyncIndex(index_prefix + "tagged")
    index.document(Tagged)
    await index.save()
    assert (await index.get_mapping())[index._name]["mappings"]["properties"]["tag"] == {"type": "keyword"}
    await index.save()


async def test_a_changed_analyzer_is_a_conflict_even_against_the_default(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    name = index_prefix + "tagged"
    first: AsyncIndex[Tagged] = AsyncIndex(name)
    first.document(Tagged)
    await first.save()

    class Simpler(AsyncDocument):
        title: Annotated[str, Text(analyzer="simple")]
        added: str = ""

    second: AsyncIndex[Simpler] = AsyncIndex(name).settings(number_of_replicas=0)
    second.document(Simpler)
    with pytest.raises(MappingConflictError) as caught:
        await second.save()
    assert caught.value.conflicts == ["title: analyzer is 'default' in the index, the model wants 'simple'"]
    live = (await first.get())[name]
    assert "added" not in live["mappings"]["properties"]
    assert live["settings"]["index"]["number_of_replicas"] == "1"


async def test_save_applies_dynamic_settings_and_new_fields(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    name = index_prefix + "tagged"
    await AsyncMapping.from_document(Tagged).save(name)
    index: AsyncIndex[Tagged] = AsyncIndex(name).settings(number_of_replicas=0, refresh_interval="7s")
    index.mapping(AsyncMapping().field("extra", Keyword()))
    await index.save()
    live = (await index.get())[name]
    assert live["settings"]["index"]["number_of_replicas"] == "0"
    assert live["settings"]["index"]["refresh_interval"] == "7s"
    assert live["mappings"]["properties"]["extra"] == {"type": "keyword"}


async def test_changed_analysis_needs_a_closed_index(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    name = index_prefix + "analysed"
    first = AsyncIndex(name)
    first.analyzer(analyzer("mine", tokenizer="standard", filter=["lowercase"]))
    await first.save()
    changed = AsyncIndex(name)
    changed.analyzer(analyzer("mine", tokenizer="standard", filter=["lowercase", "stop"]))
    with pytest.raises(MappingConflictError, match="settings.analysis.analyzer.mine: differs from the open index"):
        await changed.save()
    await changed.close()
    await changed.save()
    await changed.open()
    live = (await changed.get_settings())[name]["settings"]["index"]["analysis"]["analyzer"]["mine"]
    assert live["filter"] == ["lowercase", "stop"]


@pytest.mark.requires_module("reindex")
async def test_update_by_query_over_the_index(odm_client: AsyncElasticsearch, blog: AsyncIndex[Post]) -> None:
    await Post(title="old", created_at=WHEN, meta={"id": "u1"}).save(index=blog._name, refresh=True)
    result = await blog.updateByQuery().query("match", title="old").params(refresh=True).execute()
    assert result.updated == 1


async def test_save_through_an_alias_checks_the_index_behind_it(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    mine = analyzer("mine", tokenizer="standard", filter=["lowercase"])
    first = AsyncIndex(index_prefix + "analysed-v1").aliases(**{index_prefix + "analysed": {}})
    first.analyzer(mine)
    await first.save()
    via_alias = AsyncIndex(index_prefix + "analysed")
    via_alias.analyzer(mine)
    via_alias.mapping(AsyncMapping().field("added", Keyword()))
    await via_alias.save()
    live = (await first.get_mapping())[first._name]["mappings"]
    assert live["properties"]["added"] == {"type": "keyword"}
    assert not await via_alias.is_closed()
