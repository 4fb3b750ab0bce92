"""Ids and index names are checked before any request: dot segments would change the path."""

from __future__ import annotations

import pytest

from odm import InvalidIdError, InvalidIndexNameError
from odm._core.names import check_alias_name, check_id, check_index_name, check_index_pattern


@pytest.mark.parametrize("bad", ["", ".", "..", "x" * 513, "é" * 257, "😀" * 128 + "x", "é" * 128 + "😀" * 64 + "x"])
def test_unsafe_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdError):
        check_id(bad)


@pytest.mark.parametrize("bad", [None, 1.5, True, b"id"])
def test_ids_must_be_str_or_int(bad: object) -> None:
    with pytest.raises(InvalidIdError, match="must be a str or int"):
        check_id(bad)


@pytest.mark.parametrize("good", ["p1", "...", "a/b", "x" * 512, 42, "a..b", "😀" * 128, "é" * 256, "x" * 128])
def test_ordinary_ids_pass_as_strings(good: object) -> None:
    assert check_id(good) == str(good)


def test_a_str_subclass_id_is_sent_as_a_plain_str() -> None:
    class Tagged(str):
        pass

    checked = check_id(Tagged("p1"))
    assert checked == "p1" and type(checked) is str


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "not allowed"),
        (".", "not allowed"),
        ("..", "not allowed"),
        ("Posts", "must be lower case: 'Posts'"),
        ("postsÉ", "must be lower case"),  # judged as Elasticsearch's Locale.ROOT lower-casing
        ("postsİ", "must be lower case"),
        ("posts?", "'\\?'"),
        ("posts*", "'*'"),
        ("a,b", "','"),
        ("a b", "' '"),
        ("a:b", "':'"),
        ("-posts", "must not start"),
        ("_posts", "must not start"),
        ("+posts", "must not start"),
        ("x" * 256, "over 255 bytes"),
    ],
)
def test_bad_index_names_are_refused(bad: str, reason: str) -> None:
    with pytest.raises(InvalidIndexNameError, match=reason.replace("*", r"\*").replace("+", r"\+")):
        check_index_name(bad)


def test_alias_names_follow_the_index_rules_but_may_be_upper_case() -> None:
    assert check_alias_name("Posts-Read") == "Posts-Read"
    for bad in ("", "a,b", "a*", "_a", "a?"):
        with pytest.raises(InvalidIndexNameError, match="an alias name"):
            check_alias_name(bad)


def test_patterns_refuse_question_marks_and_empty_parts_and_allow_upper_case_aliases() -> None:
    assert check_index_pattern("Posts-Read") == ["Posts-Read"]
    for bad in ("posts?", "", ",", [","], ["a,"], ["a,.."], [], "a, b"):
        with pytest.raises(InvalidIndexNameError):
            check_index_pattern(bad)
    with pytest.raises(InvalidIndexNameError, match="lower case"):
        check_index_pattern("Logs-*", lower_case=True)


def test_patterns_allow_wildcards_commas_exclusions_and_all() -> None:
    assert check_index_pattern("posts-*,logs") == ["posts-*", "logs"]
    assert check_index_pattern(["posts-*", "-posts-old"]) == ["posts-*", "-posts-old"]
    assert check_index_pattern("_all") == ["_all"]
    with pytest.raises(InvalidIndexNameError):
        check_index_pattern("..")
    with pytest.raises(InvalidIndexNameError):
        check_index_pattern([])
