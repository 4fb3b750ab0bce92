"""Typed inner hits against the real node: nested models with their own meta, named sections,
deeper levels, collapse groups of the searched class, raw dicts where odm knows no class."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch
from elasticsearch.dsl.query import Query
from pydantic import BaseModel

from odm import (
    ArgumentError,
    AsyncDocument,
    AsyncSearch,
    HitValidationError,
    InnerHit,
    InnerHits,
    Keyword,
    NestedIdentity,
    Q,
    Text,
)
from odm.testing.isolation import isolated

WHEN = datetime(2026, 11, 24, 12, 0, 0)


class Reply(BaseModel):
    author: Annotated[str, Keyword()]
    text: str


class Comment(BaseModel):
    author: Annotated[str, Keyword()]
    body: str
    likes: int = 0
    replies: list[Reply] = []


class Editor(BaseModel):
    name: Annotated[str, Keyword()]
    notes: list[Comment] = []  # nested inside an object: the path is "editor.notes"


class Thread(AsyncDocument):
    title: Annotated[str, Text(fields={"raw": Keyword()})]
    forum: Annotated[str, Keyword()]
    comments: list[Comment] = []
    editor: Editor | None = None
    created_at: datetime = WHEN

    class Index:
        name = "threads"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.fixture
async def threads(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Thread]:
    bound = isolated(Thread, index_prefix)
    await bound.init()
    await bound(
        title="python async",
        forum="python",
        comments=[
            Comment(author="bob", body="first!", likes=1),
            Comment(author="ann", body="nice async post", likes=5, replies=[Reply(author="bob", text="thanks ann")]),
            Comment(author="ann", body="one more thing", likes=2),
        ],
        editor=Editor(name="eve", notes=[Comment(author="eve", body="checked")]),
        meta={"id": "t1"},
    ).save()
    await bound(title="python typing", forum="python", comments=[Comment(author="cy", body="meh")], meta={"id": "t2"}).save()
    await bound(title="java streams", forum="java", comments=[Comment(author="ann", body="ok")], meta={"id": "t3"}).save()
    await odm_client.indices.refresh(index=bound.index_name())
    return bound


def by_ann(**inner_hits: Any) -> Query:
    return Q("nested", path="comments", query=Q("term", comments__author="ann"), inner_hits=inner_hits)


async def test_nested_inner_hits_are_models_with_their_own_meta(threads: type[Thread]) -> None:
    s = threads.search().query(by_ann(highlight={"fields": {"comments.author": {}}})).query("match", title="python")
    [thread] = [t async for t in s]
    assert thread.meta.inner_hits is not None
    section = thread.meta.inner_hits["comments"]
    assert isinstance(section, InnerHits)
    assert section.total.value == 2 and section.total.relation == "eq" and section.max_score is not None
    hits = section.of(Comment)
    assert [type(hit) for hit in hits] == [InnerHit, InnerHit]
    assert sorted(hit.doc.body for hit in hits) == ["nice async post", "one more thing"]
    assert all(type(hit.doc) is Comment for hit in hits)
    for hit in hits:  # each one's meta: the parent's id and index, its own offset, score, highlight
        assert (hit.meta.id, hit.meta.index) == ("t1", threads.index_name())
        assert hit.meta.nested is not None and hit.meta.nested.field == "comments"
        assert thread.comments[hit.meta.nested.offset] == hit.doc  # the offset points at the same object
        assert hit.meta.score is not None and hit.meta.highlight is not None
        assert hit.meta.seq_no is None  # sent as -2: not a token of the nested object
    assert {hit.meta.nested.offset for hit in hits if hit.meta.nested} == {1, 2}
    assert any("<em>" in fragment for hit in hits for fragment in (hit.meta.highlight or {}).get("comments.author", []))


async def test_named_inner_hits_are_reachable_by_name(threads: type[Thread]) -> None:
    inner = {"name": "top_comments", "size": 1, "sort": [{"comments.likes": "desc"}]}
    response = await threads.search().query(by_ann(**inner)).sort("title.raw").execute()
    tops = {t.meta.id: t.meta.inner_hits["top_comments"] for t in response if t.meta.inner_hits}
    assert set(tops) == {"t1", "t3"}
    [best] = tops["t1"].of(Comment)
    assert (best.doc.body, best.doc.likes, best.meta.sort) == ("nice async post", 5, [5])
    assert tops["t1"].total.value == 2  # two matched, one asked for
    assert "comments" not in (response[0].meta.inner_hits or {})


async def test_a_deeper_level_gives_models_of_its_own_class(threads: type[Thread]) -> None:
    replies = Q("nested", path="comments.replies", query=Q("term", comments__replies__author="bob"), inner_hits={})
    outer = Q("nested", path="comments", query=replies, inner_hits={})
    [thread] = [t async for t in threads.search().query(outer)]
    [comment] = thread.meta.inner_hits["comments"].of(Comment) if thread.meta.inner_hits else []
    assert comment.doc.author == "ann" and comment.meta.nested == NestedIdentity(field="comments", offset=1)
    assert comment.meta.inner_hits is not None
    [reply] = comment.meta.inner_hits["comments.replies"].of(Reply)
    assert reply.doc == Reply(author="bob", text="thanks ann")
    assert reply.meta.nested is not None and reply.meta.nested.path == "comments.replies"
    assert reply.meta.nested.child == NestedIdentity(field="replies", offset=0)


async def test_nested_inside_an_object_is_found_by_its_path(threads: type[Thread]) -> None:
    notes = Q("nested", path="editor.notes", query=Q("term", editor__notes__author="eve"), inner_hits={})
    [thread] = [t async for t in threads.search().query(notes)]
    [note] = thread.meta.inner_hits["editor.notes"].of(Comment) if thread.meta.inner_hits else []
    assert note.doc == Comment(author="eve", body="checked") and note.meta.nested is not None
    assert note.meta.nested.field == "editor.notes"


async def test_collapse_inner_hits_are_documents_of_the_searched_class(threads: type[Thread]) -> None:
    s = threads.search().collapse("forum", inner_hits={"name": "latest", "size": 5, "sort": ["title.raw"]}).sort("forum")
    groups = {t.forum: t for t in await s.execute()}
    assert set(groups) == {"java", "python"}
    python = groups["python"].meta.inner_hits
    assert python is not None
    members = python["latest"].of(threads)
    assert [m.doc.title for m in members] == ["python async", "python typing"]
    assert all(type(m.doc) is threads and m.meta is m.doc.meta for m in members)
    assert [m.meta.id for m in members] == ["t1", "t2"]
    # odm asks for the members' tokens (else Elasticsearch sends _seq_no -2): a saved member is guarded
    assert members[0].meta.seq_no is not None and members[0].meta.seq_no >= 0 and members[0].meta.primary_term
    members[0].doc.forum = "python"
    assert await members[0].doc.save() == "updated"
    with pytest.raises(ArgumentError, match="hold Thread, not Comment"):
        python["latest"].of(Comment)


async def test_inner_hits_are_typed_on_every_read_path(threads: type[Thread], index_prefix: str) -> None:
    """From bytes (one model), from dicts (partial sources, several models, scan)."""

    class Other(AsyncDocument):
        name: str = ""

        class Index:
            name = index_prefix + "others"

    await Other.init()
    paths: dict[str, AsyncSearch[Any]] = {
        "bytes": threads.search(),
        "partial": threads.search().source(["title"]),
        "several models": AsyncSearch[Any](index=[threads.index_name(), Other.index_name()], doc_type=[threads, Other]),
    }
    for name, s in paths.items():
        [thread] = [t async for t in s.query(by_ann()).filter("term", forum="python")]
        assert thread.meta.inner_hits is not None, name
        assert [h.doc.author for h in thread.meta.inner_hits["comments"].of(Comment)] == ["ann", "ann"], name
    scanned = [t async for t in threads.search().query(by_ann()).filter("term", forum="java").scan()]
    assert scanned[0].meta.inner_hits is not None
    assert scanned[0].meta.inner_hits["comments"].of(Comment)[0].doc.body == "ok"


async def test_inner_hits_without_source_stay_raw_dicts(threads: type[Thread]) -> None:
    [thread] = [t async for t in threads.search().query(by_ann(_source=False)).filter("term", forum="java")]
    assert thread.meta.inner_hits is not None
    section = thread.meta.inner_hits["comments"]
    assert [type(hit) for hit in section] == [dict]
    raw = section[0]
    assert isinstance(raw, dict) and raw["_nested"] == {"field": "comments", "offset": 0} and "_source" not in raw
    with pytest.raises(ArgumentError, match="raw dicts"):
        section.of(Comment)


async def test_inner_hits_with_a_filtered_source_are_partial_models(threads: type[Thread]) -> None:
    [thread] = [t async for t in threads.search().query(by_ann(_source=["comments.author"])).filter("term", forum="java")]
    [hit] = thread.meta.inner_hits["comments"].of(Comment) if thread.meta.inner_hits else []
    assert hit.doc.author == "ann" and hit.doc.model_fields_set == {"author"} and hit.meta.partial_source
    assert not thread.meta.partial_source  # the document itself came whole
    with pytest.raises(AttributeError):
        hit.doc.body  # noqa: B018  # not fetched: unset, never invented


async def test_an_invalid_collapse_member_raises_naming_it(odm_client: AsyncElasticsearch, threads: type[Thread]) -> None:
    # Written by another program: a comment without a body.
    stored = {"title": "zzz", "forum": "java", "comments": [{"author": "x"}]}
    await odm_client.index(index=threads.index_name(), id="bad", document=stored, refresh=True)
    s = threads.search().collapse("forum", inner_hits={"name": "all", "size": 5}).sort("forum", "title.raw")
    with pytest.raises(HitValidationError) as caught:
        await s.filter("term", forum="java").execute()
    assert (caught.value.index, caught.value.id) == (threads.index_name(), "bad")
    response = await s.filter("term", forum="java").on_invalid("collect").execute()
    [java] = response.hits
    assert java.meta.inner_hits is not None
    assert [m.meta.id for m in java.meta.inner_hits["all"].of(threads)] == ["t3"]
    [invalid] = response.invalid_hits
    assert (invalid.id, invalid.index, invalid.source) == ("bad", threads.index_name(), stored)
    assert [e["loc"] for e in invalid.errors] == [("comments", 0, "body")]
