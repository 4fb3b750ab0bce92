"""AsyncIndex without a server: request bodies, name checks, and the diffs save() decides from."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from odm import AsyncDocument, AsyncIndex, AsyncSearch, AsyncUpdateByQuery, InvalidIndexNameError, Keyword
from odm._core.mapping_diff import diff_mappings
from odm._core.settings_diff import diff_settings
from odm.index._calls import _alias_actions
from odm.index import AsyncMapping


class Note(AsyncDocument):
    title: str
    tag: Annotated[str, Keyword()] = ""

    class Index:
        name = "notes"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        aliases: dict[str, Any] = {"notes-read": {}}


NOTE_MAPPING = {"properties": {"title": {"type": "text"}, "tag": {"type": "keyword"}}}


def test_a_registered_document_gives_the_create_body() -> None:
    index: AsyncIndex[Note] = AsyncIndex("notes-v2")
    index.document(Note)
    assert index.to_dict() == {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "aliases": {"notes-read": {}},
        "mappings": NOTE_MAPPING,
    }


def test_settings_and_aliases_given_to_the_index_win_over_the_documents() -> None:
    index = AsyncIndex("notes-v2").settings(number_of_replicas=2).aliases(**{"notes-all": {}})
    index.document(Note)
    body = index.to_dict()
    assert body["settings"] == {"number_of_shards": 1, "number_of_replicas": 2}
    assert body["aliases"] == {"notes-read": {}, "notes-all": {}}


def test_to_dict_leaves_the_definition_unchanged() -> None:
    index = AsyncIndex("notes").settings(number_of_shards=1)
    index.analyzer("mine", tokenizer="standard", filter=["lowercase"])
    first = index.to_dict()
    assert index._settings == {"number_of_shards": 1}
    assert index.to_dict() == first


def test_analysis_in_settings_is_merged_with_the_collected_analyzers() -> None:
    index = AsyncIndex("notes").settings(analysis={"analyzer": {"plain": {"type": "standard"}}})
    index.analyzer("mine", tokenizer="standard", filter=["lowercase"])
    assert index.to_dict()["settings"]["analysis"] == {
        "analyzer": {"plain": {"type": "standard"}, "mine": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}}
    }


def test_one_analyzer_name_defined_two_ways_is_refused() -> None:
    index = AsyncIndex("notes").settings(analysis={"analyzer": {"mine": {"type": "standard"}}})
    index.analyzer("mine", tokenizer="standard", filter=["lowercase"])
    with pytest.raises(ValueError, match="mine"):
        index.to_dict()


def test_search_and_update_by_query_are_typed_by_the_registered_document() -> None:
    index: AsyncIndex[Note] = AsyncIndex("notes")
    index.document(Note)
    search = index.search()
    assert isinstance(search, AsyncSearch)
    assert search._index == ["notes"] and search._doc_type == [Note]
    ubq = index.updateByQuery()
    assert isinstance(ubq, AsyncUpdateByQuery)
    assert ubq._index == ["notes"] and ubq._doc_type == [Note]


def test_an_index_without_documents_searches_untyped() -> None:
    assert AsyncIndex("notes").search()._doc_type == []


def test_clone_keeps_documents_and_uses_odm_mappings() -> None:
    index: AsyncIndex[Note] = AsyncIndex("notes")
    index.document(Note)
    copy = index.clone("notes-copy")
    assert copy._name == "notes-copy" and copy._documents == [Note]
    assert copy.to_dict()["mappings"] == NOTE_MAPPING
    assert isinstance(copy.get_or_create_mapping(), AsyncMapping)


@pytest.mark.parametrize("name", ["Notes", "notes,other", "notes-*", "..", "_notes", ""])
async def test_an_invalid_index_name_is_refused_before_any_request(name: str) -> None:
    # No connection is registered here: the name check must come before the lookup.
    with pytest.raises(InvalidIndexNameError):
        await AsyncIndex(name).delete()


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("put_alias", {"name": "notes-*"}),
        ("put_alias", {"name": ".."}),
        ("delete_alias", {"name": ".."}),
        ("get_alias", {"name": "a?"}),
        ("exists_alias", {"name": "a b"}),
        ("shrink", {"target": ".."}),
    ],
)
async def test_an_invalid_alias_or_target_name_is_refused_before_any_request(method: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidIndexNameError):
        await getattr(AsyncIndex("notes"), method)(**kwargs)


def test_alias_actions_without_an_index_are_about_this_index() -> None:
    actions: list[dict[str, dict[str, Any]]] = [
        {"remove": {"index": "notes-v1", "alias": "notes-read"}},
        {"add": {"alias": "notes-read", "is_write_index": True}},
        {"add": {"indices": ["a", "b"], "alias": "both"}},
    ]
    assert _alias_actions("notes-v2", actions) == [
        {"remove": {"index": "notes-v1", "alias": "notes-read"}},
        {"add": {"index": "notes-v2", "alias": "notes-read", "is_write_index": True}},
        {"add": {"indices": ["a", "b"], "alias": "both"}},
    ]


# -- settings diff ---------------------------------------------------------------


def test_nested_and_dotted_settings_compare_with_the_flat_live_ones() -> None:
    live = {"number_of_shards": "1", "mapping": {"total_fields": {"limit": "2000"}}, "refresh_interval": "1s"}
    wanted = {
        "index": {"number_of_shards": 1},
        "index.mapping.total_fields.limit": 2000,
        "refresh_interval": "5s",
    }
    assert diff_settings(wanted, live) == ({"refresh_interval": "5s"}, [])


def test_static_settings_are_conflicts_named_by_key() -> None:
    live = {"number_of_shards": "1", "codec": "default", "sort": {"field": ["a"]}}
    wanted = {"codec": "best_compression", "sort.field": ["b"], "number_of_shards": 1}
    update, conflicts = diff_settings(wanted, live)
    assert update == {}
    assert conflicts == [
        "settings.codec: the index has 'default', the model wants 'best_compression'",
        "settings.sort.field: the index has ['a'], the model wants ['b']",
    ]


def test_changed_analysis_is_applied_on_a_closed_index() -> None:
    live = {"analysis": {"analyzer": {"mine": {"type": "custom", "tokenizer": "standard"}}}}
    wanted = {"analysis": {"analyzer": {"mine": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}}}}
    assert diff_settings(wanted, live, closed=True) == ({"analysis": wanted["analysis"]}, [])
    assert diff_settings(wanted, live, closed=False) == (
        {},
        ["settings.analysis.analyzer.mine: differs from the open index"],
    )


def test_unchanged_analysis_with_numbers_as_strings_is_no_change() -> None:
    live = {"analysis": {"tokenizer": {"short": {"type": "standard", "max_token_length": "5"}}}}
    wanted = {"analysis": {"tokenizer": {"short": {"type": "standard", "max_token_length": 5}}}}
    assert diff_settings(wanted, live) == ({}, [])


# -- mapping diff: what Elasticsearch leaves out of the mappings it returns -----------


def test_a_parameter_the_live_mapping_omits_is_unchecked_without_defaults() -> None:
    wanted = {"properties": {"tag": {"type": "keyword", "doc_values": True}}}
    diff = diff_mappings(wanted, {"properties": {"tag": {"type": "keyword"}}})
    assert (diff.unchecked, diff.conflicts) == (["tag.doc_values"], [])


def test_with_defaults_an_explicit_default_is_no_change_and_another_value_a_conflict() -> None:
    wanted = {
        "properties": {
            "tag": {"type": "keyword", "doc_values": True},
            "title": {"type": "text", "analyzer": "simple", "fields": {"raw": {"type": "keyword", "ignore_above": 99}}},
        }
    }
    live = {"properties": {"tag": {"type": "keyword"}, "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}}}}
    defaults: dict[str, dict[str, Any]] = {
        "tag": {"type": "keyword", "doc_values": True},
        "title": {"type": "text", "analyzer": "default"},
        "title.raw": {"type": "keyword", "ignore_above": 2147483647},
    }
    diff = diff_mappings(wanted, live, defaults)
    assert diff.unchecked == []
    assert diff.changed == ["title.raw.ignore_above"]
    assert diff.conflicts == ["title: analyzer is 'default' in the index, the model wants 'simple'"]


def test_mapping_level_options_are_changes_or_conflicts() -> None:
    wanted = {"dynamic": "strict", "_source": {"enabled": False}, "_meta": {"v": 1}, "properties": {}}
    live = {"dynamic": "true", "_source": {"enabled": True}, "_meta": {"v": 1}}
    diff = diff_mappings(wanted, live)
    assert diff.changed == ["dynamic"]
    assert diff.conflicts == ["_source: the index has {'enabled': True}, the model wants {'enabled': False}"]


def test_booleans_compare_with_their_string_form() -> None:
    diff = diff_mappings({"dynamic": False, "properties": {}}, {"dynamic": "false"})
    assert not diff.needs_update and repr(diff) == "MappingDiff(added=[], changed=[], conflicts=[], unchecked=[])"
