"""The drift classification: each difference between a wanted definition and a live index, its kind and reason."""

from __future__ import annotations

from typing import Any

import pytest

from odm.schema._drift import Change, classify, hash_definition, live_hash, odm_meta, outcome_of, unchecked_params


def body(properties: dict[str, Any], settings: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """A definition or a live index: ``settings`` (live ones under ``index``) and ``mappings``."""
    return {"settings": settings or {}, "mappings": {**options, "properties": properties}}


def live(properties: dict[str, Any], settings: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    return {"settings": {"index": settings or {}}, "mappings": {**options, "properties": properties}}


KEYWORD = {"type": "keyword"}
TEXT = {"type": "text"}


def kinds(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(change.path, change.kind) for change in changes]


# -- nothing to do --------------------------------------------------------------------------


def test_the_same_definition_is_no_change() -> None:
    wanted = body({"title": TEXT, "tags": KEYWORD}, {"number_of_shards": 1})
    assert classify(wanted, live({"title": TEXT, "tags": KEYWORD}, {"number_of_shards": "1"})) == ()
    assert outcome_of(()) == "none"


def test_odm_meta_alone_is_not_a_mapping_difference() -> None:
    wanted = body({"tag": KEYWORD}, _meta={"odm": odm_meta("a" * 64, "m:C")})
    stored = live({"tag": KEYWORD}, _meta={"odm": odm_meta("a" * 64, "m:C")})
    assert classify(wanted, stored, wanted_hash="a" * 64) == ()


# -- in place -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "stored", "path", "words"),
    [
        ({"tag": KEYWORD, "new": KEYWORD}, {"tag": KEYWORD}, "new", "new field: added in place"),
        (
            {"title": {"type": "text", "fields": {"raw": KEYWORD}}},
            {"title": TEXT},
            "title.raw",
            "new multi-field: added in place; documents already stored are not indexed into it until written again",
        ),
        (
            {"author": {"properties": {"name": TEXT, "email": KEYWORD}}},
            {"author": {"properties": {"name": TEXT}}},
            "author.email",
            "new field: added in place",
        ),
        (
            {"tag": {"type": "keyword", "ignore_above": 100}},
            {"tag": {"type": "keyword", "ignore_above": 256}},
            "tag",
            "ignore_above differs: updated in place, applies to documents written from now on",
        ),
        (
            {"title": {"type": "text", "search_analyzer": "simple"}},
            {"title": {"type": "text", "search_analyzer": "standard"}},
            "title",
            "search_analyzer differs: updated in place, used at search time only",
        ),
        (
            {"tag": {"type": "keyword", "meta": {"unit": "cm"}}},
            {"tag": {"type": "keyword", "meta": {"unit": "mm"}}},
            "tag",
            "meta differs: updated in place, field metadata only",
        ),
    ],
)
def test_in_place_field_changes(wanted: dict[str, Any], stored: dict[str, Any], path: str, words: str) -> None:
    assert classify(body(wanted), live(stored)) == (Change(path, "in_place", words),)


def test_a_changed_dynamic_option_and_a_dynamic_setting_are_in_place() -> None:
    wanted = body({"tag": KEYWORD}, {"number_of_replicas": 0, "refresh_interval": "5s"}, dynamic="strict")
    stored = live({"tag": KEYWORD}, {"number_of_replicas": "1"}, dynamic="true")
    assert classify(wanted, stored) == (
        Change("dynamic", "in_place", "mapping option dynamic differs: updated in place"),
        Change("settings.index.number_of_replicas", "in_place", "number_of_replicas '1' -> 0: a dynamic setting, updated in place"),
        Change("settings.index.refresh_interval", "in_place", "refresh_interval None -> '5s': a dynamic setting, updated in place"),
    )
    assert outcome_of(classify(wanted, stored)) == "in_place"


def test_changed_analysis_on_a_closed_index_is_in_place() -> None:
    mine = {"type": "custom", "tokenizer": "whitespace"}
    wanted = body({}, {"analysis": {"analyzer": {"mine": mine}}})
    stored = live({}, {"analysis": {"analyzer": {"mine": {"type": "custom", "tokenizer": "standard"}}}})
    (change,) = classify(wanted, stored, closed=True)
    assert change.kind == "in_place" and change.path == "analysis.analyzer.mine"
    assert change.reason.startswith("analysis.analyzer.mine differs: applied while the index is closed")


def test_the_definition_hash_is_recorded_in_place() -> None:
    stored = live({"tag": KEYWORD}, _meta={"odm": odm_meta("b" * 64, "m:C"), "team": "search"})
    (change,) = classify(body({"tag": KEYWORD}), stored, wanted_hash="a" * 64)
    assert change == Change("_meta", "in_place", "stored definition hash bbbbbbbbbbbb differs: init() records aaaaaaaaaaaa")
    (change,) = classify(body({"tag": KEYWORD}), live({"tag": KEYWORD}), wanted_hash="a" * 64)
    assert change.reason == "no definition hash stored yet: init() records aaaaaaaaaaaa"


def test_the_users_own_meta_is_compared_key_by_key_and_live_extra_keys_are_fine() -> None:
    stored = live({}, _meta={"team": "search", "set_by": "another tool"})
    assert classify(body({}, _meta={"team": "search"}), stored) == ()
    assert classify(body({}, _meta={"team": "ads"}), stored) == (
        Change("_meta", "in_place", "_meta team differs: updated in place"),
    )


# -- a new index ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "stored", "path", "words"),
    [
        ({"tag": TEXT}, {"tag": KEYWORD}, "tag", "type keyword -> text: a field's type cannot change in place"),
        (
            {"comments": {"type": "nested", "properties": {"body": TEXT}}},
            {"comments": {"properties": {"body": TEXT}}},
            "comments",
            "object -> nested: nested documents are stored apart from their parent; the layout cannot change in place",
        ),
        (
            {"comments": {"properties": {"body": TEXT}}},
            {"comments": {"type": "nested", "properties": {"body": TEXT}}},
            "comments",
            "nested -> object: nested documents are stored apart from their parent; the layout cannot change in place",
        ),
        (
            {"body": {"type": "text", "analyzer": "simple"}},
            {"body": {"type": "text", "analyzer": "standard"}},
            "body",
            "analyzer 'standard' -> 'simple': the stored text was analyzed with the old analyzer",
        ),
        (
            {"tag": {"type": "keyword", "index": False}},
            {"tag": {"type": "keyword", "index": True}},
            "tag",
            "index True -> False: whether a field is searchable is fixed when it is created",
        ),
        (
            {"tag": {"type": "keyword", "doc_values": False}},
            {"tag": {"type": "keyword", "doc_values": True}},
            "tag",
            "doc_values True -> False: doc values are written when documents are indexed",
        ),
        (
            {"raw": {"type": "object", "enabled": False}},
            {"raw": {"type": "object", "enabled": True}},
            "raw",
            "enabled True -> False: whether an object is parsed is fixed when it is created",
        ),
        (
            {"day": {"type": "date", "format": "yyyy-MM-dd"}},
            {"day": {"type": "date", "format": "strict_date_optional_time"}},
            "day",
            "format 'strict_date_optional_time' -> 'yyyy-MM-dd': stored dates were parsed with the old format",
        ),
        (
            {"tag": {"type": "keyword", "store": True}},
            {"tag": {"type": "keyword", "store": False}},
            "tag",
            "store False -> True: stored fields are written when documents are indexed",
        ),
    ],
)
def test_new_index_field_changes(wanted: dict[str, Any], stored: dict[str, Any], path: str, words: str) -> None:
    assert classify(body(wanted), live(stored)) == (Change(path, "new_index", words),)
    assert outcome_of(classify(body(wanted), live(stored))) == "new_index"


def test_a_field_removed_from_the_model_is_reported_never_dropped() -> None:
    wanted = body({"title": TEXT, "author": {"properties": {"name": TEXT}}})
    stored = live(
        {
            "title": {"type": "text", "fields": {"raw": KEYWORD}},
            "author": {"properties": {"name": TEXT, "email": KEYWORD}},
            "legacy": {"properties": {"a": KEYWORD, "b": KEYWORD}},
        }
    )
    changes = classify(wanted, stored)
    assert kinds(changes) == [("legacy", "new_index"), ("title.raw", "new_index"), ("author.email", "new_index")]
    removed = "in the index, not in the model: stored data the model no longer reads; a field cannot be removed in place"
    assert [change.reason for change in changes] == [
        removed,
        "a multi-field in the index, not in the model: indexed data the model's queries no longer use; "
        "a field cannot be removed in place",
        removed,
    ]


def test_static_settings_and_open_analysis_need_a_new_index() -> None:
    wanted = body(
        {},
        {
            "number_of_shards": 2,
            "sort.field": ["day"],
            "codec": "best_compression",
            "analysis": {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard"}}},
        },
    )
    stored = live({}, {"number_of_shards": "1", "codec": "default"})
    assert classify(wanted, stored) == (
        Change("settings.index.number_of_shards", "new_index", "number_of_shards '1' -> 2: the shard count is fixed when the index is created"),
        Change("settings.index.sort.field", "new_index", "sort.field None -> ['day']: index sorting is fixed when the index is created"),
        Change("settings.index.codec", "new_index", "codec 'default' -> 'best_compression': a static setting, fixed when the index is created"),
        Change(
            "analysis.analyzer.folded",
            "new_index",
            "analysis.analyzer.folded is new: the analysis of an open index cannot change, and stored text was "
            "analyzed without it",
        ),
    )


def test_a_changed_mapping_option_that_cannot_be_updated_needs_a_new_index() -> None:
    wanted = body({}, _source={"enabled": False})
    (change,) = classify(wanted, live({}, _source={"enabled": True}))
    assert change.kind == "new_index" and change.path == "_source"
    assert change.reason == "mapping option _source {'enabled': True} -> {'enabled': False}: fixed when the index is created"


def test_one_new_index_change_makes_the_outcome_new_index() -> None:
    changes = classify(body({"tag": TEXT, "new": KEYWORD}), live({"tag": KEYWORD}))
    assert kinds(changes) == [("new", "in_place"), ("tag", "new_index")]
    assert outcome_of(changes) == "new_index"


# -- defaults Elasticsearch leaves out -------------------------------------------------------


def test_parameters_the_live_mapping_omits_are_judged_with_the_field_defaults() -> None:
    wanted = body({"tag": {"type": "keyword", "doc_values": False}})
    stored = live({"tag": KEYWORD})
    assert unchecked_params(wanted, stored) == ["tag.doc_values"]
    defaults = {"tag": {"type": "keyword", "doc_values": True, "index": True}}
    (change,) = classify(wanted, stored, defaults)
    assert change == Change("tag", "new_index", "doc_values True -> False: doc values are written when documents are indexed")
    assert classify(body({"tag": {"type": "keyword", "doc_values": True}}), stored, defaults) == ()


def test_without_defaults_an_omitted_parameter_is_left_to_elasticsearch() -> None:
    (change,) = classify(body({"tag": {"type": "keyword", "doc_values": False}}), live({"tag": KEYWORD}))
    assert change == Change(
        "tag", "in_place", "doc_values is not reported by Elasticsearch: init() sends it and Elasticsearch decides"
    )


# -- the hash --------------------------------------------------------------------------------


def test_the_hash_is_canonical_and_leaves_out_odm_meta_and_aliases() -> None:
    one: dict[str, Any] = {"settings": {"number_of_shards": 1}, "mappings": {"properties": {"a": KEYWORD, "b": TEXT}}}
    same = {
        "aliases": {"posts-read": {}},
        "mappings": {"_meta": {"odm": odm_meta("x" * 64, "m:C")}, "properties": {"b": TEXT, "a": KEYWORD}},
        "settings": {"number_of_shards": 1},
    }
    assert hash_definition(one) == hash_definition(same)
    assert len(hash_definition(one)) == 64 and int(hash_definition(one), 16) >= 0
    assert hash_definition(one) != hash_definition({**one, "settings": {"number_of_shards": 2}})
    assert hash_definition(one) != hash_definition({**one, "mappings": {"properties": {"a": TEXT, "b": TEXT}}})
    users = {**one, "mappings": {**one["mappings"], "_meta": {"team": "search"}}}
    assert hash_definition(one) != hash_definition(users)  # the user's own _meta is part of the definition


def test_the_live_hash_is_read_from_odm_meta_only() -> None:
    assert live_hash({"_meta": {"odm": odm_meta("c" * 64, "m:C")}}) == "c" * 64
    assert live_hash({"_meta": {"definition_hash": "c" * 64}}) is None
    assert live_hash({"_meta": {"odm": "not a mapping"}}) is None
    assert live_hash({}) is None
