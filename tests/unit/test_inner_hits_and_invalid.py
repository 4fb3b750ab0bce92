"""Pure reading rules: typed inner hits, reading a page that has an invalid hit, mget's not-found error."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

from odm import ArgumentError, DocumentNotFoundError, HitValidationError, InnerHit, InnerHits, NestedIdentity
from odm._core.hits import NO_RULES, InnerHitRules, inner_hit_rules, reader_for
from odm.mapping import model_at
from odm.meta import meta_from_hit
from tests.models.blog import Author, Comment, Post

SOURCE = {"title": "Hello", "created_at": "2026-11-24T12:00:00", "comments": [{"author": "ann", "body": "hi", "created_at": "2026-11-24T12:00:00"}]}


def nested(offset: int, source: Any, **extra: Any) -> dict[str, Any]:
    return {"_index": "posts", "_id": "p1", "_nested": {"field": "comments", "offset": offset}, "_score": 1.0,
            "_seq_no": -2, "_primary_term": 0, "_source": source, **extra}


def section(*hits: dict[str, Any]) -> dict[str, Any]:
    return {"hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0, "hits": list(hits)}}


def hit(id: str = "p1", source: Any = SOURCE, **extra: Any) -> dict[str, Any]:
    return {"_index": "posts", "_id": id, "_score": 1.0, "_seq_no": 3, "_primary_term": 1, "_source": source, **extra}


def test_rules_come_from_the_request_body() -> None:
    assert inner_hit_rules({"query": {"match_all": {}}}) == NO_RULES
    body = {"collapse": {"field": "f", "inner_hits": [{"name": "a"}, {"name": "b", "_source": False}]}}
    assert inner_hit_rules(body) == InnerHitRules(frozenset({"a", "b"}), partial=True)
    deep = {"query": {"bool": {"must": [{"nested": {"path": "c", "query": {}, "inner_hits": {"_source": ["c.x"]}}}]}}}
    assert inner_hit_rules(deep).partial and not inner_hit_rules({"collapse": {"inner_hits": {"name": "n"}}}).partial


def test_model_at_follows_objects_and_lists_by_elasticsearch_name() -> None:
    assert (model_at(Post, "comments"), model_at(Post, "author"), model_at(Post, "title"), model_at(Post, "x.y")) == (
        Comment, Author, None, None
    )


@pytest.mark.parametrize("from_bytes", [False, True])
def test_nested_inner_hits_become_models_and_unknown_ones_stay_dicts(from_bytes: bool) -> None:
    inner = {
        "comments": section(nested(0, SOURCE["comments"][0], highlight={"comments.body": ["<em>hi</em>"]})),
        "no_source": section({"_index": "posts", "_id": "p1", "_nested": {"field": "comments", "offset": 0}}),
        "children": section(hit("c1", {"text": "not a post"})),  # has_child: no _nested, not a collapse
    }
    raw = [hit(inner_hits=inner)]
    reader = reader_for(Post)
    if from_bytes:
        body = {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": raw}}
        [post] = reader.read_response(orjson.dumps(body))[1]
    else:
        [post] = reader.read_many(raw)
    assert post.meta.inner_hits is not None and post.meta.seq_no == 3
    comments = post.meta.inner_hits["comments"]
    assert isinstance(comments, InnerHits) and comments.total.value == 1
    [comment] = comments.of(Comment)
    assert comment.doc == post.comments[0] and comment.meta.highlight == {"comments.body": ["<em>hi</em>"]}
    assert comment.meta.nested == NestedIdentity("comments", 0) and comment.meta.seq_no is None  # -2: unassigned
    assert [type(h) for h in post.meta.inner_hits["no_source"]] == [dict]
    assert post.meta.inner_hits["children"][0] == inner["children"]["hits"]["hits"][0]
    with pytest.raises(ArgumentError, match="raw dicts"):
        post.meta.inner_hits["children"].of(Post)


def test_an_invalid_nested_inner_hit_is_raised_or_reported() -> None:
    raw = [hit(inner_hits={"comments": section(nested(0, {"author": "ann"}), nested(1, SOURCE["comments"][0]))})]
    with pytest.raises(HitValidationError, match=r"hit 'p1' in index 'posts' is not a valid Comment \(inner hits 'comments', comments\[0\]\)"):
        reader_for(Post).read_many(raw)
    invalid: list[Any] = []
    [post] = reader_for(Post).read_many(raw, invalid=invalid)
    assert post.meta.inner_hits is not None and [h.meta.nested.offset for h in post.meta.inner_hits["comments"].of(Comment) if h.meta.nested] == [1]
    assert [(i.id, i.model, i.source, [e["loc"] for e in i.errors]) for i in invalid] == [
        ("p1", "Comment (inner hits 'comments', comments[0])", {"author": "ann"}, [("body",), ("created_at",)])
    ]


def test_collapse_inner_hits_are_documents_without_unassigned_tokens() -> None:
    member = hit("p2", {**SOURCE, "title": "Other"}, _seq_no=-2, _primary_term=0)
    [post] = reader_for(Post).read_many([hit(inner_hits={"group": section(member)})], rules=InnerHitRules(frozenset({"group"})))
    assert post.meta.inner_hits is not None
    [other] = post.meta.inner_hits["group"].of(Post)
    assert isinstance(other, InnerHit) and other.doc.title == "Other" and other.meta is other.doc.meta
    assert (other.meta.id, other.meta.seq_no, other.meta.primary_term) == ("p2", None, None)


@pytest.mark.parametrize("from_bytes", [False, True])
def test_a_page_with_an_invalid_hit_is_read_hit_by_hit_only_when_reporting(from_bytes: bool) -> None:
    page = [hit("a"), hit("bad", {"title": 3}), hit("b")]
    body = {"hits": {"total": {"value": 3, "relation": "eq"}, "hits": page}}
    reader = reader_for(Post)

    def read(invalid: list[Any] | None) -> list[Post]:
        if from_bytes:
            return reader.read_response(orjson.dumps(body), invalid=invalid)[1]
        return reader.read_many(page, invalid=invalid)

    with pytest.raises(HitValidationError, match="hit 'bad' in index 'posts' is not a valid Post"):
        read(None)
    invalid: list[Any] = []
    assert [p.meta.id for p in read(invalid)] == ["a", "b"]
    [bad] = invalid
    assert (bad.index, bad.id, bad.model, bad.source) == ("posts", "bad", "Post", {"title": 3})
    assert sorted(e["loc"] for e in bad.errors) == [("created_at",), ("title",)]
    assert "hit 'bad' in index 'posts' is not a valid Post: " in str(bad)


def test_an_inner_hits_section_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="inner_hits section"):
        meta_from_hit({"_id": "x", "inner_hits": {"a": [1, 2]}})


def test_not_found_names_every_missing_id() -> None:
    meta = ApiResponseMeta(404, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
    several = DocumentNotFoundError("notes", "x", meta, {"docs": []}, ids=["x", "y"])
    assert (several.id, several.ids) == ("x", ["x", "y"]) and str(several).startswith("no documents 'x', 'y' in index 'notes'")
    one = DocumentNotFoundError("notes", "x", meta, {})
    assert one.ids == ["x"] and str(one).startswith("no document 'x' in index 'notes'")
