"""Raw hits -> models in pydantic-core, with meta; bad hits are named, never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from odm import AsyncSearch, HitValidationError
from odm._core.hits import reader_for
from tests.models.blog import Post

SOURCE = {"title": "Hello", "created_at": "2026-11-24T12:00:00", "views": 3, "tags": ["a"]}


def hit(id: str = "p1", index: str = "posts-2026-11", source: Any = SOURCE, **extra: Any) -> dict[str, Any]:
    return {"_index": index, "_id": id, "_score": 1.5, "_source": source, **extra}


def test_hit_becomes_model_with_meta_even_from_another_index() -> None:
    post = reader_for(Post).read(
        hit(_seq_no=0, _primary_term=1, _routing="ann", highlight={"title": ["<em>Hello</em>"]}, sort=[3])
    )
    assert type(post) is Post
    assert post.title == "Hello" and post.views == 3
    meta = post.meta
    assert (meta.id, meta.index, meta.score) == ("p1", "posts-2026-11", 1.5)
    assert (meta.seq_no, meta.primary_term, meta.routing) == (0, 1, "ann")
    assert meta.highlight == {"title": ["<em>Hello</em>"]} and meta.sort == [3]


def test_a_page_is_read_in_order() -> None:
    posts = reader_for(Post).read_many([hit("a"), hit("b"), hit("c")])
    assert [p.meta.id for p in posts] == ["a", "b", "c"]


def test_an_invalid_hit_is_reported_with_index_id_and_field() -> None:
    bad = hit("p2", source={**SOURCE, "views": "lots"})
    with pytest.raises(HitValidationError) as caught:
        reader_for(Post).read_many([hit("p1"), bad, hit("p3")])
    error = caught.value
    assert (error.index, error.id) == ("posts-2026-11", "p2")
    assert "views" in str(error) and "'p2'" in str(error)


def test_partial_source_keeps_what_was_fetched_and_validates_it() -> None:
    post = reader_for(Post).read(hit(source={"title": "Hi", "views": "7"}), partial=True)
    assert post.title == "Hi" and post.views == 7
    assert post.model_fields_set == {"title", "views"}
    assert post.tags == []  # not fetched: the default
    with pytest.raises(AttributeError):
        _ = post.created_at  # not fetched and no default
    with pytest.raises(HitValidationError, match="views"):
        reader_for(Post).read(hit(source={"views": "x"}), partial=True)


def test_untyped_search_yields_attribute_dict_hits() -> None:
    s = AsyncSearch()
    [only] = s._read_hits([hit()])
    assert only.title == "Hello" and only.meta.id == "p1"


def test_several_models_are_told_apart_by_index() -> None:
    from odm import AsyncDocument

    class Log(AsyncDocument):
        message: str

        class Index:
            name = "logs"

    s = AsyncSearch[Any](index=["posts*", "logs"], doc_type=[Post, Log])
    post, log = s._read_hits([hit(index="posts-2026-11"), hit("l1", index="logs", source={"message": "m"})])
    assert isinstance(post, Post) and isinstance(log, Log)
    with pytest.raises(LookupError, match="matches none of Post, Log"):
        s._read_hits([hit(index="other")])


def test_source_filtering_switches_to_partial_reading() -> None:
    s = AsyncSearch(doc_type=Post).source(["title"])
    [post] = s._read_hits([hit(source={"title": "Only"})])
    assert post.title == "Only"
