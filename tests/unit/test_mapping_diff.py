"""init() decides from a pure diff: additions are applied, conflicts refused before any request."""

from __future__ import annotations

from odm._core.mapping_diff import diff_mappings
from odm._core.settings_diff import diff_settings


def test_identical_mappings_need_nothing() -> None:
    mapping = {"properties": {"title": {"type": "text", "fields": {"raw": {"type": "keyword"}}}}}
    diff = diff_mappings(mapping, mapping)
    assert (diff.added, diff.changed, diff.conflicts, diff.needs_update) == ([], [], [], False)


def test_new_fields_and_subfields_are_additions() -> None:
    live = {"properties": {"title": {"type": "text"}, "author": {"properties": {"name": {"type": "text"}}}}}
    wanted = {
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "author": {"type": "object", "properties": {"name": {"type": "text"}, "email": {"type": "keyword"}}},
            "views": {"type": "long"},
        }
    }
    diff = diff_mappings(wanted, live)
    assert sorted(diff.added) == ["author.email", "title.raw", "views"]
    assert diff.conflicts == [] and diff.needs_update


def test_type_and_fixed_parameter_changes_are_conflicts_named_by_path() -> None:
    live = {
        "properties": {
            "views": {"type": "long"},
            "title": {"type": "text", "analyzer": "standard"},
            "comments": {"type": "nested", "properties": {"author": {"type": "text"}}},
        }
    }
    wanted = {
        "properties": {
            "views": {"type": "keyword"},
            "title": {"type": "text", "analyzer": "simple"},
            "comments": {"type": "nested", "properties": {"author": {"type": "keyword"}}},
        }
    }
    diff = diff_mappings(wanted, live)
    assert diff.conflicts == [
        "views: the index has long, the model wants keyword",
        "title: analyzer is 'standard' in the index, the model wants 'simple'",
        "comments.author: the index has text, the model wants keyword",
    ]


def test_updatable_parameters_are_changes_not_conflicts() -> None:
    diff = diff_mappings(
        {"properties": {"tag": {"type": "keyword", "ignore_above": 256}}},
        {"properties": {"tag": {"type": "keyword", "ignore_above": 100}}},
    )
    assert diff.changed == ["tag.ignore_above"] and diff.conflicts == []


def test_fields_only_in_the_live_index_are_left_alone() -> None:
    diff = diff_mappings({"properties": {}}, {"properties": {"legacy": {"type": "text"}}})
    assert not diff.needs_update and not diff.conflicts


def test_settings_diff_applies_dynamic_and_refuses_static_changes() -> None:
    live = {"number_of_shards": "1", "number_of_replicas": "1", "refresh_interval": "1s"}
    update, conflicts = diff_settings(
        {"number_of_shards": 2, "number_of_replicas": 0, "refresh_interval": "1s"}, live
    )
    assert update == {"number_of_replicas": 0}
    assert conflicts == ["settings.number_of_shards: the index has '1', the model wants 2"]


def test_changed_analysis_on_an_open_index_is_a_conflict() -> None:
    live = {"analysis": {"analyzer": {"mine": {"type": "custom", "tokenizer": "standard"}}}}
    wanted = {"analysis": {"analyzer": {"mine": {"type": "custom", "tokenizer": "whitespace"}}}}
    assert diff_settings(wanted, live) == ({}, ["settings.analysis.analyzer.mine: differs from the open index"])
    assert diff_settings(live, live) == ({}, [])
