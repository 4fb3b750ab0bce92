"""AsyncDocument against the real node: init, CRUD, validation, ids, concurrency."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import BaseModel, Field

from odm import (
    AsyncDocument,
    DocumentExistsError,
    DocumentNotFoundError,
    DocumentValidationError,
    InvalidIdError,
    Keyword,
    MappingConflictError,
    UpdateAction,
    VersionConflictError,
    definition_hash,
)
from odm.testing.isolation import isolated
from tests.integration.live_mappings import without_object_type
from tests.models.blog import Author, Comment, Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    return bound


async def count(client: AsyncElasticsearch, index: str) -> int:
    await client.indices.refresh(index=index)
    return int((await client.count(index=index))["count"])


async def test_init_creates_the_index_with_settings_and_the_exact_mapping(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    name = posts.index_name()
    live = (await odm_client.indices.get(index=name))[name]
    recorded = {"odm": {"definition_hash": definition_hash(posts), "document": "tests.models.blog:Post", "name": name}}
    assert live["mappings"] == {**without_object_type(posts.mapping_dict()), "_meta": recorded}
    assert live["settings"]["index"]["number_of_shards"] == "1"
    assert live["settings"]["index"]["number_of_replicas"] == "0"
    await posts.init()  # a second run changes nothing and does not fail


async def test_init_applies_an_added_field(odm_client: AsyncElasticsearch, posts: type[Post]) -> None:
    class PostV2(posts):  # type: ignore[valid-type,misc]
        summary: Annotated[str, Keyword()] = ""

    await PostV2.init()
    mapping = (await odm_client.indices.get_mapping(index=posts.index_name()))[posts.index_name()]
    assert mapping["mappings"]["properties"]["summary"] == {"type": "keyword"}


async def test_init_with_incompatible_changes_names_each_field_and_changes_nothing(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    class Changed(AsyncDocument):
        title: Annotated[str, Keyword()]  # was text
        views: str  # was long
        added: int = 0  # compatible, but must not be applied either

        class Index:
            name = posts.index_name()

    before = await odm_client.indices.get_mapping(index=posts.index_name())
    with pytest.raises(MappingConflictError) as caught:
        await Changed.init()
    assert caught.value.index == posts.index_name()
    assert caught.value.conflicts == [
        "title: the index has text, the model wants keyword",
        "views: the index has long, the model wants text",
    ]
    assert await odm_client.indices.get_mapping(index=posts.index_name()) == before


async def test_save_get_round_trip_fills_meta(posts: type[Post]) -> None:
    post = posts(
        title="Hello",
        created_at=WHEN,
        tags=["python", "es"],
        author=Author(name="Ann", email="ann@example.com"),
        comments=[Comment(author="bob", body="nice", created_at=WHEN)],
        meta={"id": "p1"},
    )
    assert await post.save(refresh=True) == "created"
    assert (post.meta.id, post.meta.index, post.meta.version) == ("p1", posts.index_name(), 1)
    assert post.meta.seq_no == 0 and post.meta.primary_term == 1  # kept although 0
    same = await posts.get("p1")
    assert isinstance(same, posts)
    assert same == post.model_copy(update={"meta": same.meta})
    assert same.meta.seq_no == 0 and same.meta.primary_term == 1
    assert await posts.exists("p1") and not await posts.exists("p2")


async def test_save_without_id_gets_one(posts: type[Post]) -> None:
    post = posts(title="No id", created_at=WHEN)
    await post.save()
    assert post.meta.id and (await posts.get(post.meta.id)).title == "No id"


async def test_missing_document_raises_not_found_or_gives_none(posts: type[Post]) -> None:
    with pytest.raises(DocumentNotFoundError, match="no document 'nope'") as caught:
        await posts.get("nope")
    assert isinstance(caught.value, elasticsearch.NotFoundError)
    assert await posts.get_or_none("nope") is None


async def test_invalid_document_is_refused_and_nothing_is_written(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    post = posts(title="Hello", created_at=WHEN, meta={"id": "bad"})
    post.tags.append(42)  # type: ignore[arg-type]
    with pytest.raises(DocumentValidationError, match="tags.0"):
        await post.save(refresh=True)
    assert await count(odm_client, posts.index_name()) == 0


@pytest.mark.parametrize("bad_id", [".", "..", "", "x" * 513])
async def test_unsafe_ids_are_refused_before_any_request(
    odm_client: AsyncElasticsearch, posts: type[Post], bad_id: str
) -> None:
    keep = posts(title="keep", created_at=WHEN, meta={"id": "keep"})
    await keep.save(refresh=True)
    with pytest.raises(InvalidIdError):
        await posts.get(bad_id)
    with pytest.raises(InvalidIdError):
        await posts.exists(bad_id)
    victim = posts(title="x", created_at=WHEN, meta={"id": bad_id, "index": posts.index_name()})
    with pytest.raises(InvalidIdError):
        await victim.delete()
    with pytest.raises(InvalidIdError):
        await victim.save()
    assert await odm_client.indices.exists(index=posts.index_name())
    assert await count(odm_client, posts.index_name()) == 1


async def test_mget_keeps_order_and_gives_none_for_missing(posts: type[Post]) -> None:
    for name in ("a", "b"):
        await posts(title=name, created_at=WHEN, meta={"id": name}).save()
    docs = await posts.mget(["b", "nope", "a"])
    assert [d.title if d else None for d in docs] == ["b", None, "a"]
    assert docs[0] is not None and docs[0].meta.id == "b"
    assert await posts.mget([]) == []


async def test_update_is_validated_partial_and_reflected(odm_client: AsyncElasticsearch, posts: type[Post]) -> None:
    post = posts(title="Hello", created_at=WHEN, views=1, meta={"id": "p1"})
    await post.save(refresh=True)
    assert await post.update(views=99, tags=["new"], refresh=True) == "updated"
    assert post.views == 99 and post.tags == ["new"] and post.meta.version == 2
    stored = await posts.get("p1")
    assert (stored.views, stored.tags, stored.title) == (99, ["new"], "Hello")

    with pytest.raises(DocumentValidationError, match="views"):
        await post.update(views="lots")
    with pytest.raises(DocumentValidationError, match="nonexistent"):
        await post.update(nonexistent=1)
    assert post.views == 99 and (await posts.get("p1")).views == 99


async def test_delete_removes_the_document(posts: type[Post]) -> None:
    post = posts(title="Hello", created_at=WHEN, meta={"id": "p1"})
    await post.save(refresh=True)
    await post.delete(refresh=True)
    assert await posts.get_or_none("p1") is None
    with pytest.raises(DocumentNotFoundError):
        await post.delete()


async def test_a_loaded_document_is_saved_back_with_its_routing_and_index(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    dated = posts.index_name() + "-2026-11"
    post = posts(title="Routed", created_at=WHEN, meta={"id": "r1", "routing": "ann"})
    await post.save(index=dated, refresh=True)
    [loaded] = [p async for p in posts.search(index=posts.index_name() + "-*")]
    assert isinstance(loaded, posts)
    assert (loaded.meta.index, loaded.meta.routing) == (dated, "ann")
    loaded.views = 5
    await loaded.save(refresh=True)
    raw = await odm_client.get(index=dated, id="r1", routing="ann")
    assert raw["_source"]["views"] == 5 and raw["_routing"] == "ann"
    assert await count(odm_client, posts.index_name()) == 0


async def test_concurrency_tokens_detect_a_concurrent_change(posts: type[Post]) -> None:
    await posts(title="Hello", created_at=WHEN, meta={"id": "p1"}).save(refresh=True)
    first, second = await posts.get("p1"), await posts.get("p1")
    assert first.meta.seq_no == 0  # a zero token is a real token
    first.views = 1
    await first.save(if_unchanged=True)
    second.views = 2
    with pytest.raises(VersionConflictError) as caught:
        await second.save(if_unchanged=True)
    assert isinstance(caught.value, elasticsearch.ConflictError)
    with pytest.raises(VersionConflictError):
        await second.update(views=3, if_unchanged=True)
    with pytest.raises(VersionConflictError):
        await second.delete(if_unchanged=True)
    assert (await posts.get("p1")).views == 1
    with pytest.raises(ValueError, match="load the document"):
        await posts(title="new", created_at=WHEN, meta={"id": "p9"}).save(if_unchanged=True)


async def test_create_refuses_to_overwrite(posts: type[Post]) -> None:
    await posts(title="one", created_at=WHEN, meta={"id": "p1"}).save(op_type="create")
    with pytest.raises(DocumentExistsError) as caught:
        await posts(title="two", created_at=WHEN, meta={"id": "p1"}).save(op_type="create")
    assert caught.value.error == "version_conflict_engine_exception"  # Elasticsearch's own type
    assert isinstance(caught.value, elasticsearch.ConflictError) and not isinstance(caught.value, VersionConflictError)
    assert isinstance(caught.value.__cause__, elasticsearch.ConflictError) and "p1" in str(caught.value)
    assert (await posts.get("p1")).title == "one"


async def test_fifty_concurrent_increments_with_retry_end_at_fifty(posts: type[Post]) -> None:
    await posts(title="counter", created_at=WHEN, meta={"id": "c"}).save(refresh=True)

    async def increment() -> None:
        while True:
            current = await posts.get("c")
            try:
                await current.update(views=current.views + 1, if_unchanged=True)
                return
            except VersionConflictError:
                continue

    await asyncio.gather(*(increment() for _ in range(50)))
    assert (await posts.get("c")).views == 50


async def test_pydantic_aliases_name_the_field_and_round_trip(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    class Person(AsyncDocument):
        first_name: Annotated[str, Keyword()] = Field(alias="firstName")
        age: int = Field(alias="Age")

        class Index:
            name = index_prefix + "people"

    await Person.init()
    person = Person(first_name="Ann", age=33, meta={"id": "ann"})  # type: ignore[call-arg]  # populate_by_name
    await person.save(refresh=True)
    raw = await odm_client.get(index=Person.index_name(), id="ann")
    assert raw["_source"] == {"firstName": "Ann", "Age": 33}
    assert (await Person.get("ann")).first_name == "Ann"
    [found] = [p async for p in Person.search().filter("term", firstName="Ann")]
    assert found.age == 33
    await found.update(age=34, refresh=True)
    assert (await odm_client.get(index=Person.index_name(), id="ann"))["_source"]["Age"] == 34


async def test_update_and_delete_by_id_send_one_request_each_and_validate_first(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    await posts(title="by id", created_at=WHEN, meta={"id": "b1"}).save(refresh=True)
    assert await posts.update_by_id("b1", views=7, refresh=True) == "updated"
    assert (await posts.get("b1")).views == 7
    with pytest.raises(DocumentValidationError, match="views"):
        await posts.update_by_id("b1", views="many")
    with pytest.raises(DocumentValidationError, match="nope"):
        await posts.update_by_id("b1", nope=1)
    with pytest.raises(DocumentNotFoundError):
        await posts.update_by_id("missing", views=1)
    assert (await posts.get("b1")).views == 7  # the refused updates sent nothing
    await posts.delete_by_id("b1", refresh=True)
    assert not await posts.exists("b1")
    with pytest.raises(DocumentNotFoundError):
        await posts.delete_by_id("b1")
    with pytest.raises(InvalidIdError):
        await posts.delete_by_id("..")


class Settings(BaseModel):
    theme: str = "light"
    size: int = 12


class Profile(AsyncDocument):
    name: Annotated[str, Keyword()]
    settings: Settings = Settings()

    class Index:
        name = "profiles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def test_an_object_given_as_a_dict_updates_only_its_keys_and_a_model_instance_the_whole_object(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    Bound = isolated(Profile, index_prefix)
    await Bound.init()
    index = Bound.index_name()
    doc = Bound(name="ann", settings=Settings(theme="dark", size=16), meta={"id": "p1"})
    await doc.save(refresh=True)

    await doc.update(settings={"size": 20})  # theme is not given: it keeps "dark", never the default
    assert (await odm_client.get(index=index, id="p1"))["_source"]["settings"] == {"theme": "dark", "size": 20}
    assert doc.settings == Settings(theme="dark", size=20)  # the merged value, read back

    await Bound.update_by_id("p1", settings={"theme": "blue"})
    assert (await odm_client.get(index=index, id="p1"))["_source"]["settings"] == {"theme": "blue", "size": 20}

    await Bound.bulk([UpdateAction("p1", {"settings": {"size": 8}})], refresh=True)
    assert (await odm_client.get(index=index, id="p1"))["_source"]["settings"] == {"theme": "blue", "size": 8}

    loaded = await Bound.get("p1")
    await loaded.update(settings=Settings(size=10))  # a model instance: the whole object, defaults included
    assert (await odm_client.get(index=index, id="p1"))["_source"]["settings"] == {"theme": "light", "size": 10}
