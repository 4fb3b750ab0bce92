"""Versioned indices behind an alias, the definition hash, drift detection and adopt, on the real node."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch
from pydantic import BaseModel

from odm import (
    AdoptError,
    ArgumentError,
    AsyncDocument,
    InvalidIndexNameError,
    Keyword,
    MappingConflictError,
    MigrationLockedError,
    Object,
    Text,
    VersionedIndexError,
    adopt,
    analyzer,
    definition_hash,
    detect_drift,
    indices_behind,
    version_of,
    versioned_name,
)
from odm.schema._lock import Locked
from odm.testing.isolation import isolated

SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}


class Comment(BaseModel):
    author: Annotated[str, Keyword()]
    body: str


class Article(AsyncDocument):
    title: Annotated[str, Text(analyzer="standard")]
    tag: Annotated[str, Keyword()] = ""
    comments: list[Comment] = []

    class Index:
        name = "articles"
        versioned = True
        settings = SETTINGS


class Note(AsyncDocument):  # not versioned: Index.name is the concrete index
    text: str

    class Index:
        name = "notes"
        settings = SETTINGS


async def behind(client: AsyncElasticsearch, alias: str) -> dict[str, Any]:
    return dict((await client.indices.get_alias(name=alias)).body)


async def stored_meta(client: AsyncElasticsearch, index: str) -> dict[str, Any]:
    mapping = (await client.indices.get_mapping(index=index)).body
    return dict(next(iter(mapping.values()))["mappings"].get("_meta", {}))


# -- names ------------------------------------------------------------------------------------


def test_versioned_names_and_their_inverse() -> None:
    assert versioned_name("posts", 3) == "posts-v3"
    assert [version_of(name, "posts") for name in ("posts-v3", "posts-v12", "posts", "posts-v", "posts-v03", "posts-v0",
                                                    "posts-vx", "other-v1", "posts-v²")] == [3, 12] + [None] * 7
    with pytest.raises(ArgumentError, match="versions start at 1"):
        versioned_name("posts", 0)


# -- init of a versioned class ------------------------------------------------------------------


async def test_init_creates_v1_behind_the_alias_and_reads_and_writes_go_through_it(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    articles = isolated(Article, index_prefix)
    alias, first = index_prefix + "articles", index_prefix + "articles-v1"
    await articles.init()
    assert await behind(odm_client, alias) == {first: {"aliases": {alias: {"is_write_index": True}}}}
    assert await indices_behind(alias) == [first]
    assert await stored_meta(odm_client, first) == {
        "odm": {"definition_hash": definition_hash(articles), "document": f"{__name__}:Article", "name": alias}
    }

    assert articles.index_name() == alias
    await articles(title="Hello", meta={"id": "a1"}).save(refresh=True)
    loaded = await articles.get("a1")
    assert loaded.meta.index == first  # a loaded document knows its concrete index
    assert [hit.meta.id async for hit in articles.search().query("match", title="hello")] == ["a1"]
    loaded.tag = "t"
    await loaded.save(refresh=True)  # back to meta.index, with its concurrency tokens
    assert (await articles.get("a1")).tag == "t"
    assert await articles.search().count() == 1
    await articles(title="Second", meta={"id": "a2"}).save()
    await articles._index.refresh()
    assert await articles.exists("a2") and [d and d.title for d in await articles.mget(["a1", "a2"])] == ["Hello", "Second"]
    await articles.update_by_id("a2", tag="u", refresh=True)
    assert (await articles.get("a2")).tag == "u"
    await articles.delete_by_id("a2", refresh=True)
    assert not await articles.exists("a2")

    await articles.init()  # a second run changes nothing
    assert await indices_behind(alias) == [first]


async def test_the_classs_other_aliases_are_on_v1_too(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    class Read(AsyncDocument):  # not isolated(): it would keep the unprefixed alias of a parent class too
        text: str

        class Index:
            name = index_prefix + "reads"
            versioned = True
            aliases: dict[str, Any] = {index_prefix + "reads-all": {}}

    await Read.init()
    first = index_prefix + "reads-v1"
    assert (await odm_client.indices.get_alias(index=first)).body[first]["aliases"] == {
        index_prefix + "reads": {"is_write_index": True},
        index_prefix + "reads-all": {},
    }


async def test_a_template_of_the_class_matching_its_versions_agrees_with_init(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    articles = isolated(Article, index_prefix)
    await articles.as_template(index_prefix + "articles").save()  # pattern <name>-*: matches articles-v1
    await articles.init()
    first = index_prefix + "articles-v1"
    assert await indices_behind(index_prefix + "articles") == [first]
    assert (await detect_drift(articles)).outcome == "none"


async def test_init_applies_compatible_changes_to_the_index_behind_the_alias(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    await isolated(Article, index_prefix).init()

    class WithSummary(Article):
        summary: Annotated[str, Keyword()] = ""

    grown = isolated(WithSummary, index_prefix)
    await grown.init()
    first = index_prefix + "articles-v1"
    mapping = (await odm_client.indices.get_mapping(index=first)).body[first]["mappings"]
    assert mapping["properties"]["summary"] == {"type": "keyword"}
    assert mapping["_meta"]["odm"]["definition_hash"] == definition_hash(grown)
    assert await indices_behind(index_prefix + "articles") == [first]


async def test_an_incompatible_change_is_refused_and_nothing_changes(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    articles = isolated(Article, index_prefix)
    await articles.init()

    class TagAsText(Article):
        tag: Annotated[str, Text()] = ""

    first = index_prefix + "articles-v1"
    with pytest.raises(MappingConflictError, match="tag: the index has keyword, the model wants text"):
        await isolated(TagAsText, index_prefix).init()
    assert (await stored_meta(odm_client, first))["odm"]["definition_hash"] == definition_hash(articles)


async def test_a_concrete_index_named_like_the_alias_is_refused_pointing_to_adopt(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    name = index_prefix + "articles"
    await odm_client.indices.create(index=name)
    await odm_client.index(index=name, id="kept", document={"title": "old"}, refresh=True)
    with pytest.raises(VersionedIndexError, match=r"adopt\(\)") as caught:
        await isolated(Article, index_prefix).init()
    assert caught.value.index == name
    assert not await odm_client.indices.exists(index=name + "-v1")
    assert (await odm_client.get(index=name, id="kept"))["_source"] == {"title": "old"}


async def test_a_v1_the_alias_does_not_point_to_is_not_taken_over(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    foreign = index_prefix + "articles-v1"
    await odm_client.indices.create(index=foreign, mappings={"properties": {"other": {"type": "long"}}})
    with pytest.raises(VersionedIndexError, match="odm does not take over an index it did not create"):
        await isolated(Article, index_prefix).init()
    mapping = (await odm_client.indices.get_mapping(index=foreign)).body[foreign]["mappings"]
    assert mapping == {"properties": {"other": {"type": "long"}}}
    assert not await odm_client.indices.exists_alias(name=index_prefix + "articles")


async def test_an_alias_over_several_indices_without_a_write_index_is_refused(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    alias = index_prefix + "articles"
    for version in (1, 2):
        await odm_client.indices.create(index=f"{alias}-v{version}", aliases={alias: {}})
    articles = isolated(Article, index_prefix)
    with pytest.raises(VersionedIndexError, match=r"none is its write index; nothing was changed"):
        await articles.init()
    drift = await detect_drift(articles)
    assert drift.outcome == "new_index" and drift.changes[0].reason.endswith("none is its write index: init() refuses it")
    assert await stored_meta(odm_client, alias + "-v1") == {} == await stored_meta(odm_client, alias + "-v2")


async def test_several_processes_initialising_at_once_make_one_v1(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    articles = isolated(Article, index_prefix)
    await asyncio.gather(*(articles.init() for _ in range(6)))
    assert await indices_behind(index_prefix + "articles") == [index_prefix + "articles-v1"]


# -- the definition hash in _meta (every class) -----------------------------------------------


async def test_init_keeps_the_meta_keys_others_set_and_records_the_hash(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    notes = isolated(Note, index_prefix)
    name = index_prefix + "notes"
    await odm_client.indices.create(index=name, mappings={"_meta": {"owner": "search-team"}})
    await notes.init()
    assert await stored_meta(odm_client, name) == {
        "owner": "search-team",
        "odm": {"definition_hash": definition_hash(notes), "document": f"{__name__}:Note", "name": name},
    }


async def test_a_users_odm_meta_key_is_refused_before_anything_is_sent(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    class Tagged(Note):
        pass

    tagged = isolated(Tagged, index_prefix)
    tagged._index.get_or_create_mapping().meta("_meta", {"odm": "mine"})
    with pytest.raises(ArgumentError, match="_meta key 'odm' is odm's"):
        await tagged.init()
    assert not await odm_client.indices.exists(index=index_prefix + "notes")


def test_the_hash_is_the_same_for_a_prefixed_copy_and_differs_for_another_definition() -> None:
    class Other(Article):
        tag: Annotated[str, Text()] = ""

    assert definition_hash(isolated(Article, "odm-t-x-")) == definition_hash(Article)
    assert definition_hash(Other) != definition_hash(Article)


# -- drift ------------------------------------------------------------------------------------


class NewField(Article):
    extra: Annotated[str, Keyword()] = ""


class NewMultiField(Article):
    title: Annotated[str, Text(analyzer="standard", fields={"raw": Keyword()})]


class IgnoreAbove(Article):
    tag: Annotated[str, Keyword(ignore_above=100)] = ""


class SearchAnalyzer(Article):
    title: Annotated[str, Text(analyzer="standard", search_analyzer="simple")]


class Replicas(Article):
    class Index:
        settings = {"number_of_replicas": 1, "refresh_interval": "5s"}


class TypeChange(Article):
    tag: Annotated[str, Text()] = ""


class AnalyzerChange(Article):
    title: Annotated[str, Text(analyzer="simple")]


class NotIndexed(Article):
    tag: Annotated[str, Keyword(index=False)] = ""


class NoDocValues(Article):
    tag: Annotated[str, Keyword(doc_values=False)] = ""


class NestedToObject(Article):
    comments: Annotated[list[Comment], Object()] = []


class Shards(Article):
    class Index:
        settings = {"number_of_shards": 2}


class Sorted(Article):
    class Index:
        settings = {"sort.field": "tag"}


class CustomAnalysis(Article):
    title: Annotated[str, Text(analyzer=analyzer("folded", tokenizer="standard", filter=["lowercase"]))]


class WithoutTag(AsyncDocument):  # Article without its tag field
    title: Annotated[str, Text(analyzer="standard")]
    comments: list[Comment] = []

    class Index:
        name = "articles"
        versioned = True
        settings = SETTINGS


IN_PLACE = [
    (NewField, ["extra"]),
    (NewMultiField, ["title.raw"]),
    (IgnoreAbove, ["tag"]),
    (SearchAnalyzer, ["title"]),
    (Replicas, ["settings.index.number_of_replicas", "settings.index.refresh_interval"]),
]


@pytest.mark.parametrize(("variant", "paths"), IN_PLACE, ids=[v.__name__ for v, _ in IN_PLACE])
async def test_changes_init_applies_in_place(
    odm_client: AsyncElasticsearch, index_prefix: str, variant: type[Article], paths: list[str]
) -> None:
    await isolated(Article, index_prefix).init()
    changed = isolated(variant, index_prefix)
    drift = await detect_drift(changed)
    assert drift.outcome == "in_place"
    assert [change.path for change in drift.changes] == [*paths, "_meta"]  # and the new hash
    assert {change.kind for change in drift.changes} == {"in_place"}
    assert all(change.reason for change in drift.changes)
    await changed.init()
    after = await detect_drift(changed)
    assert (after.outcome, after.changes, after.live_hash) == ("none", (), definition_hash(changed))


NEW_INDEX = [
    (TypeChange, [("tag", "type keyword -> text: a field's type cannot change in place")]),
    (AnalyzerChange, [("title", "analyzer 'standard' -> 'simple': the stored text was analyzed with the old analyzer")]),
    (NotIndexed, [("tag", "index True -> False: whether a field is searchable is fixed when it is created")]),
    (NoDocValues, [("tag", "doc_values True -> False: doc values are written when documents are indexed")]),
    (NestedToObject, [("comments", "nested -> object: nested documents are stored apart from their parent; "
                                    "the layout cannot change in place")]),
    (Shards, [("settings.index.number_of_shards", "number_of_shards '1' -> 2: the shard count is fixed when the "
                                                  "index is created")]),
    (Sorted, [("settings.index.sort.field", "sort.field None -> 'tag': index sorting is fixed when the index is created")]),
    (
        CustomAnalysis,
        [
            ("title", "analyzer 'standard' -> 'folded': the stored text was analyzed with the old analyzer"),
            ("analysis.analyzer.folded", "analysis.analyzer.folded is new: the analysis of an open index cannot "
                                         "change, and stored text was analyzed without it"),
        ],
    ),
]


@pytest.mark.parametrize(("variant", "expected"), NEW_INDEX, ids=[v.__name__ for v, _ in NEW_INDEX])
async def test_changes_that_need_a_new_index(
    odm_client: AsyncElasticsearch, index_prefix: str, variant: type[Article], expected: list[tuple[str, str]]
) -> None:
    articles = isolated(Article, index_prefix)
    await articles.init()
    changed = isolated(variant, index_prefix)
    drift = await detect_drift(changed)
    assert drift.outcome == "new_index"
    assert [(c.path, c.reason) for c in drift.changes if c.kind == "new_index"] == expected
    assert (drift.alias, drift.index, drift.version) == (index_prefix + "articles", index_prefix + "articles-v1", 1)
    assert (drift.wanted_hash, drift.live_hash) == (definition_hash(changed), definition_hash(articles))
    with pytest.raises(MappingConflictError):
        await changed.init()
    assert (await detect_drift(articles)).outcome == "none"  # init changed nothing


async def test_a_field_removed_from_the_model_needs_a_new_index_and_is_never_dropped(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    await isolated(Article, index_prefix).init()
    drift = await detect_drift(isolated(WithoutTag, index_prefix))
    assert drift.outcome == "new_index"
    (removed,) = [change for change in drift.changes if change.kind == "new_index"]
    assert (removed.path, removed.reason) == (
        "tag",
        "in the index, not in the model: stored data the model no longer reads; a field cannot be removed in place",
    )


async def test_a_missing_index_and_an_index_made_without_odm(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    notes = isolated(Note, index_prefix)
    drift = await detect_drift(notes)
    assert (drift.outcome, drift.index, drift.changes, drift.live_hash) == ("missing", None, (), None)

    name = index_prefix + "notes"  # the same mapping and settings, made by hand: only the hash is missing
    await odm_client.indices.create(index=name, settings=SETTINGS, mappings=notes.mapping_dict())
    drift = await detect_drift(notes)
    assert drift.outcome == "in_place" and drift.index == name and drift.version is None
    assert [(c.path, c.reason) for c in drift.changes] == [
        ("_meta", f"no definition hash stored yet: init() records {definition_hash(notes)[:12]}")
    ]
    await notes.init()
    assert (await detect_drift(notes)).outcome == "none"


async def test_a_versioned_class_over_a_concrete_index_drifts_to_adopt(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    articles = isolated(Article, index_prefix)
    await odm_client.indices.create(index=index_prefix + "articles", settings=SETTINGS, mappings=articles.mapping_dict())
    drift = await detect_drift(articles)
    assert drift.outcome == "new_index" and drift.index == index_prefix + "articles"
    assert drift.changes[0].path == index_prefix + "articles"
    assert "adopt() moves it behind the alias" in drift.changes[0].reason


# -- adopt ------------------------------------------------------------------------------------


@pytest.fixture
async def plain_index(odm_client: AsyncElasticsearch, index_prefix: str) -> str:
    """A concrete index named like Article's alias, made before Article was versioned: 3 documents, an alias."""
    name = index_prefix + "articles"
    unversioned = isolated(Article, index_prefix).mapping_dict()
    await odm_client.indices.create(
        index=name, settings=SETTINGS, mappings=unversioned, aliases={index_prefix + "articles-read": {}}
    )
    for n in range(3):
        await odm_client.index(index=name, id=f"a{n}", document={"title": f"old {n}", "tag": "t"})
    await odm_client.indices.refresh(index=name)
    return name


async def test_adopt_moves_the_index_behind_the_alias_with_every_document(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str
) -> None:
    articles = isolated(Article, index_prefix)
    first = plain_index + "-v1"
    assert await adopt(articles) == first
    assert await behind(odm_client, plain_index) == {first: {"aliases": {plain_index: {"is_write_index": True}}}}
    assert await indices_behind(index_prefix + "articles-read") == [first]  # its other aliases moved with it
    assert (await odm_client.count(index=plain_index))["count"] == 3
    settings = (await odm_client.indices.get_settings(index=first, flat_settings=True)).body[first]["settings"]
    assert "index.blocks.write" not in settings and settings["index.number_of_replicas"] == "0"

    await articles(title="new", meta={"id": "a9"}).save(refresh=True)  # writable through the alias
    assert sorted([str(hit.meta.id) async for hit in articles.search()]) == ["a0", "a1", "a2", "a9"]
    await articles.init()  # and a versioned init now works on it
    assert (await detect_drift(articles)).outcome == "none"

    assert await adopt(articles) == first  # a second adopt is a no-op
    assert await indices_behind(plain_index) == [first]


async def test_writes_during_adopt_fail_loudly(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[BaseException] = []
    clone = odm_client.indices.clone

    async def write_then_clone(**kwargs: Any) -> Any:
        try:
            await odm_client.index(index=plain_index, id="late", document={"title": "late"})
        except elasticsearch.ApiError as error:
            refused.append(error)
        return await clone(**kwargs)

    monkeypatch.setattr(odm_client.indices, "clone", write_then_clone)
    await adopt(isolated(Article, index_prefix))
    (error,) = refused
    assert isinstance(error, elasticsearch.AuthorizationException)  # 403: the write block
    assert "index write (api)" in str(error)
    assert (await odm_client.count(index=plain_index))["count"] == 3


async def test_adopt_refuses_when_the_clone_target_exists_and_changes_nothing(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str
) -> None:
    foreign = plain_index + "-v1"
    await odm_client.indices.create(index=foreign)
    with pytest.raises(AdoptError, match="exists already; nothing was changed") as caught:
        await adopt(isolated(Article, index_prefix))
    assert (caught.value.index, caught.value.target) == (plain_index, foreign)
    await assert_untouched(odm_client, plain_index)
    assert await odm_client.indices.exists(index=foreign)


async def test_a_clone_target_made_meanwhile_is_not_deleted_and_the_original_is_unblocked(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = plain_index + "-v1"
    clone = odm_client.indices.clone

    async def someone_else_first(**kwargs: Any) -> Any:
        await odm_client.indices.create(index=foreign, mappings={"properties": {"theirs": {"type": "long"}}})
        return await clone(**kwargs)

    monkeypatch.setattr(odm_client.indices, "clone", someone_else_first)
    with pytest.raises(AdoptError, match="resource_already_exists_exception") as caught:
        await adopt(isolated(Article, index_prefix))
    assert f"{plain_index!r} is writable again" in str(caught.value)
    assert "exists, but odm's clone call failed, so odm left it alone: check it" in str(caught.value)
    assert isinstance(caught.value.__cause__, elasticsearch.BadRequestError)
    await assert_untouched(odm_client, plain_index)
    assert (await odm_client.indices.get_mapping(index=foreign)).body[foreign]["mappings"]["properties"] == {
        "theirs": {"type": "long"}
    }


async def test_a_failed_alias_switch_deletes_the_copy_and_keeps_the_original(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_aliases = odm_client.indices.update_aliases

    async def refused(**kwargs: Any) -> Any:
        if is_switch(kwargs):
            raise elasticsearch.ConnectionError("connection refused")
        return await update_aliases(**kwargs)  # the fence's calls

    monkeypatch.setattr(odm_client.indices, "update_aliases", refused)
    with pytest.raises(AdoptError, match=r"the alias switch failed \(ConnectionError: Connection error\)") as caught:
        await adopt(isolated(Article, index_prefix))
    assert f"the copy {plain_index + '-v1'!r} was deleted" in str(caught.value)
    await assert_untouched(odm_client, plain_index)
    assert not await odm_client.indices.exists(index=plain_index + "-v1")


async def test_a_copy_with_another_count_is_deleted_and_the_original_kept(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = odm_client.count

    async def one_short_in_the_copy(**kwargs: Any) -> Any:
        answer = await count(**kwargs)
        return {"count": answer["count"] - 1} if kwargs["index"].endswith("-v1") else answer

    monkeypatch.setattr(odm_client, "count", one_short_in_the_copy)
    with pytest.raises(AdoptError, match="the copy holds 2 documents, the original 3") as caught:
        await adopt(isolated(Article, index_prefix))
    assert str(caught.value).endswith(
        f"{plain_index!r} is writable again; the copy {plain_index + '-v1'!r} was deleted; "
        f"the original {plain_index!r} keeps every document"
    )
    monkeypatch.undo()
    await assert_untouched(odm_client, plain_index)
    assert not await odm_client.indices.exists(index=plain_index + "-v1")


async def test_an_alias_switch_whose_answer_was_lost_completes(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_aliases = odm_client.indices.update_aliases

    async def applied_then_lost(**kwargs: Any) -> Any:
        answer = await update_aliases(**kwargs)
        if is_switch(kwargs):
            raise elasticsearch.ConnectionTimeout("timed out")
        return answer  # the fence's calls

    monkeypatch.setattr(odm_client.indices, "update_aliases", applied_then_lost)
    assert await adopt(isolated(Article, index_prefix)) == plain_index + "-v1"
    assert await indices_behind(plain_index) == [plain_index + "-v1"]
    assert (await odm_client.count(index=plain_index))["count"] == 3
    settings = (await odm_client.indices.get_settings(index=plain_index + "-v1", flat_settings=True)).body
    assert "index.blocks.write" not in settings[plain_index + "-v1"]["settings"]


def is_switch(kwargs: dict[str, Any]) -> bool:
    """Whether an ``update_aliases`` call is adopt's switch (not one that takes or drops a fence)."""
    return any("remove_index" in action for action in kwargs["actions"])


async def test_adopt_of_nothing_is_a_clear_error(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    with pytest.raises(AdoptError, match="no index of this name exists"):
        await adopt(isolated(Article, index_prefix))
    assert await indices_behind(index_prefix + "articles") == []


async def assert_untouched(client: AsyncElasticsearch, name: str) -> None:
    """``name`` is still the concrete index with its three documents, its alias, and writable."""
    assert await indices_behind(name) == [name]
    assert (await client.count(index=name))["count"] == 3
    settings = (await client.indices.get_settings(index=name, flat_settings=True)).body[name]["settings"]
    assert settings.get("index.blocks.write") in (None, "false")
    await client.index(index=name, id="probe", document={"title": "probe"}, refresh=True)
    await client.delete(index=name, id="probe", refresh=True)
    assert list((await client.indices.get_alias(index=name)).body[name]["aliases"]) == [name.replace("articles", "articles-read")]


# -- two adopts at once ----------------------------------------------------------------------


async def test_two_adopts_at_once_exclude_each_other_and_lose_no_write(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B reads the original's settings before A blocks it; A blocks, clones, counts and is about to
    switch; then B goes on. Without mutual exclusion B's clone fails and its undo lifts A's block, a
    write lands on the original, and A's switch deletes it. Under the lock one of them is refused."""
    articles = isolated(Article, index_prefix)
    a_client, b_client = AsyncElasticsearch(es_url), AsyncElasticsearch(es_url)
    b_at_block, go_b, a_switching, go_a = asyncio.Event(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    add_block, update_aliases = b_client.indices.add_block, a_client.indices.update_aliases

    async def b_waits_before_blocking(**kwargs: Any) -> Any:
        b_at_block.set()
        await go_b.wait()
        return await add_block(**kwargs)

    async def a_waits_before_switching(**kwargs: Any) -> Any:
        if is_switch(kwargs):
            a_switching.set()
            await go_a.wait()
        return await update_aliases(**kwargs)

    monkeypatch.setattr(b_client.indices, "add_block", b_waits_before_blocking)
    monkeypatch.setattr(a_client.indices, "update_aliases", a_waits_before_switching)

    async def first_of(event: asyncio.Event, task: asyncio.Task[str]) -> None:
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    try:
        b = asyncio.ensure_future(adopt(articles, using=b_client))
        await first_of(b_at_block, b)
        a = asyncio.ensure_future(adopt(articles, using=a_client))
        await first_of(a_switching, a)
        go_b.set()
        b_outcome = (await asyncio.gather(b, return_exceptions=True))[0]
        # a write acknowledged now, through the name users write to, must survive whatever A does next
        await odm_client.index(index=plain_index, id="late", document={"title": "late"}, refresh=True)
        go_a.set()
        a_outcome = (await asyncio.gather(a, return_exceptions=True))[0]
    finally:
        go_a.set()
        go_b.set()
        await a_client.close()
        await b_client.close()

    assert await indices_behind(plain_index) == [plain_index + "-v1"]
    stored = sorted(hit["_id"] for hit in (await odm_client.search(index=plain_index, size=10))["hits"]["hits"])
    assert stored == ["a0", "a1", "a2", "late"], (a_outcome, b_outcome)
    # one adopted, the other was refused by the lock before it changed anything
    assert sorted([type(a_outcome).__name__, type(b_outcome).__name__]) == ["MigrationLockedError", "str"]
    assert plain_index + "-v1" in (a_outcome, b_outcome)
    refused = a_outcome if isinstance(a_outcome, BaseException) else b_outcome
    assert "adopt" in str(refused) and "nothing was changed" in str(refused)
    settings = (await odm_client.indices.get_settings(index=plain_index + "-v1", flat_settings=True)).body
    assert "index.blocks.write" not in settings[plain_index + "-v1"]["settings"]
    assert await adopt(articles) == plain_index + "-v1"  # a later adopt: the alias exists, nothing to do
    fences = await odm_client.indices.get_alias(name=f"{plain_index}-fence-*", expand_wildcards="all", ignore_unavailable=True)
    assert not any(entry["aliases"] for entry in fences.body.values())


async def test_adopt_is_refused_while_a_migration_holds_the_lock_and_waits_for_it_with_wait(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_index = index_prefix + "odm-migrations"
    articles = isolated(Article, index_prefix)
    migration = Locked(odm_client, state_index, plain_index, 60)  # what apply/resume/rollback hold
    await migration.lease.acquire()
    with pytest.raises(MigrationLockedError, match="adopt refused: .* holds the migration lock of this alias") as caught:
        await adopt(articles, state_index=state_index)
    assert "nothing was changed" in str(caught.value) and caught.value.owner == migration.lease.owner
    await assert_untouched(odm_client, plain_index)
    assert not await odm_client.indices.exists(index=plain_index + "-v1")

    at_the_lock, exists = asyncio.Event(), odm_client.indices.exists

    async def seen(**kwargs: Any) -> Any:
        if kwargs.get("index") == state_index:  # the lock's first request: the lease is taken right after
            at_the_lock.set()
        return await exists(**kwargs)

    monkeypatch.setattr(odm_client.indices, "exists", seen)
    waiting = asyncio.ensure_future(adopt(articles, state_index=state_index, wait=60))
    await at_the_lock.wait()
    await migration.lease.release()
    assert await waiting == plain_index + "-v1"
    assert (await odm_client.count(index=plain_index))["count"] == 3
    lease = await odm_client.options(ignore_status=404).get(index=state_index, id=f"lock:{plain_index}")
    assert lease["found"] is False  # released


async def test_an_adopt_that_lost_its_lock_cannot_switch_nor_lift_the_block(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, plain_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused before its switch past its lease, the adopt finds its fences removed by the new owner: the
    switch (which removes the copy's settings fence with must_exist) and the unblock are refused."""
    state_index = index_prefix + "odm-migrations"
    update_aliases = odm_client.indices.update_aliases
    newer = Locked(odm_client, state_index, plain_index, 60)

    async def taken_over_before_the_switch(**kwargs: Any) -> Any:
        if is_switch(kwargs) and newer.lease.generation is None:
            await newer.lease.acquire(force=True)  # its owner is believed dead
            await newer.fence.remove_older()
        return await update_aliases(**kwargs)

    monkeypatch.setattr(odm_client.indices, "update_aliases", taken_over_before_the_switch)
    with pytest.raises(AdoptError, match="the alias switch failed") as caught:
        await adopt(isolated(Article, index_prefix), state_index=state_index)
    assert "lost the migration lock" in str(caught.value)  # the unblock through its fence was refused
    assert f"the copy {plain_index + '-v1'!r} was deleted" in str(caught.value)
    assert await indices_behind(plain_index) == [plain_index]  # nothing deleted, every document kept
    assert (await odm_client.count(index=plain_index))["count"] == 3
    settings = (await odm_client.indices.get_settings(index=plain_index, flat_settings=True)).body
    assert settings[plain_index]["settings"]["index.blocks.write"] == "true"  # the new owner's to lift
    await newer.lease.release()
    fences = await odm_client.indices.get_alias(name=f"{plain_index}-fence-*", expand_wildcards="all", ignore_unavailable=True)
    assert not any(entry["aliases"] for entry in fences.body.values())


async def test_adopt_with_a_bad_state_index_is_refused_before_any_request(
    odm_client: AsyncElasticsearch, index_prefix: str, plain_index: str
) -> None:
    with pytest.raises(InvalidIndexNameError):
        await adopt(isolated(Article, index_prefix), state_index="Bad,Name")
    await assert_untouched(odm_client, plain_index)
