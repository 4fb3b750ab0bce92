"""Index templates against the real node: a date-based index created by a save gets the model's mapping."""

from __future__ import annotations

from datetime import datetime

import pytest
from elasticsearch import AsyncElasticsearch, ElasticsearchWarning

from odm import AsyncComposableIndexTemplate, AsyncIndex, AsyncIndexTemplate, InvalidIndexNameError, Keyword
from odm.testing.isolation import isolated
from tests.integration.live_mappings import without_object_type
from tests.models.blog import Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)


async def test_a_save_into_a_new_date_based_index_gets_the_models_mapping(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    posts = isolated(Post, index_prefix)
    template = posts.as_template(index_prefix + "posts")
    assert not await template.exists()
    await template.save()
    assert await template.exists()

    monthly = index_prefix + "posts-2026-11"
    await posts(title="November", created_at=WHEN, meta={"id": "n1"}).save(index=monthly, refresh=True)

    live = (await odm_client.indices.get(index=monthly))[monthly]
    assert live["mappings"] == without_object_type(posts.mapping_dict())
    assert live["settings"]["index"]["number_of_shards"] == "1"
    assert live["settings"]["index"]["number_of_replicas"] == "0"
    hits = [hit async for hit in posts.search(index=index_prefix + "posts-*")]
    assert [(type(hit), hit.meta.index, hit.meta.id) for hit in hits] == [(posts, monthly, "n1")]


async def test_template_aliases_reach_every_new_index(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    alias = index_prefix + "posts-all"
    index: AsyncIndex[Post] = AsyncIndex(index_prefix + "posts").aliases(**{alias: {}})
    index.document(Post)
    await index.as_composable_template(index_prefix + "posts", index_prefix + "posts-*", priority=7).save()
    for month in ("10", "11"):
        await Post(title=month, created_at=WHEN).save(index=f"{index_prefix}posts-2026-{month}", refresh=True)
    assert sorted((await odm_client.indices.get_alias(name=alias)).body) == [
        f"{index_prefix}posts-2026-10",
        f"{index_prefix}posts-2026-11",
    ]
    assert await Post.search(index=alias).count() == 2


async def test_delete_removes_the_template_and_keeps_its_indices(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    template = isolated(Post, index_prefix).as_template(index_prefix + "posts")
    await template.save()
    await odm_client.indices.create(index=index_prefix + "posts-1")
    await template.delete()
    assert not await template.exists()
    await odm_client.indices.create(index=index_prefix + "posts-2")
    first = (await odm_client.indices.get_mapping(index=index_prefix + "posts-1"))[index_prefix + "posts-1"]
    second = (await odm_client.indices.get_mapping(index=index_prefix + "posts-2"))[index_prefix + "posts-2"]
    assert first["mappings"] == without_object_type(Post.mapping_dict())
    assert second["mappings"] == {}


async def test_a_template_built_field_by_field(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    template = AsyncComposableIndexTemplate(index_prefix + "tags", index_prefix + "tags-*", using=odm_client)
    template.settings(number_of_shards=1)
    template.mapping(template.get_or_create_mapping().field("tag", Keyword()))
    await template.save()
    await odm_client.indices.create(index=index_prefix + "tags-a")
    live = (await odm_client.indices.get_mapping(index=index_prefix + "tags-a"))[index_prefix + "tags-a"]
    assert live["mappings"] == {"properties": {"tag": {"type": "keyword"}}}


async def test_a_legacy_template_works_and_elasticsearch_warns(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    template = AsyncIndexTemplate(index_prefix + "legacy", index_prefix + "legacy-*", order=1)
    template.document(Post)
    with pytest.warns(ElasticsearchWarning, match="Legacy index templates are deprecated"):
        await template.save()
    assert await template.exists()
    await Post(title="legacy", created_at=WHEN).save(index=index_prefix + "legacy-1", refresh=True)
    live = (await odm_client.indices.get_mapping(index=index_prefix + "legacy-1"))[index_prefix + "legacy-1"]
    assert live["mappings"] == without_object_type(Post.mapping_dict())
    await template.delete()
    assert not await template.exists()


async def test_an_invalid_template_name_sends_nothing(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    with pytest.raises(InvalidIndexNameError):
        isolated(Post, index_prefix).as_template(index_prefix + "Posts")
    templates = (await odm_client.indices.get_index_template())["index_templates"]
    assert [t["name"] for t in templates if t["name"].startswith(index_prefix)] == []
