"""Analysis objects without a server: where their definitions go, and the Analyze API bodies."""

from __future__ import annotations

from typing import Annotated

import pytest
from elasticsearch.dsl import analysis as dsl_analysis

from odm import (
    AnalyzeResult,
    AsyncDocument,
    AsyncIndex,
    BuiltinAnalyzer,
    CustomAnalyzer,
    Keyword,
    Text,
    analyzer,
    normalizer,
    token_filter,
    tokenizer,
)
from odm.analysis import _inline

short_words = tokenizer("short_words", "standard", max_token_length=5)
no_articles = token_filter("no_articles", "stop", stopwords=["a", "an", "the"])
folded = analyzer("folded", tokenizer=short_words, filter=["lowercase", no_articles])
lower = normalizer("lower", filter=["lowercase"])
pairs = analyzer("pairs", tokenizer="standard", filter=["lowercase", token_filter("two", "shingle", max_shingle_size=2)])


class Article(AsyncDocument):
    title: Annotated[str, Text(analyzer=folded, search_analyzer="standard")]
    code: Annotated[str, Keyword(normalizer=lower)]

    class Index:
        name = "articles"
        analyzers = [pairs]


def test_analyzer_builds_odm_subclasses_of_the_dsl_classes() -> None:
    assert isinstance(analyzer("standard"), BuiltinAnalyzer)
    assert isinstance(analyzer("standard"), dsl_analysis.BuiltinAnalyzer)
    assert isinstance(folded, CustomAnalyzer) and isinstance(folded, dsl_analysis.CustomAnalyzer)
    assert isinstance(analyzer("short", "standard", max_token_length=5), CustomAnalyzer)


def test_fields_refer_to_analyzers_by_name() -> None:
    assert Article.mapping_dict() == {
        "properties": {
            "title": {"type": "text", "analyzer": "folded", "search_analyzer": "standard"},
            "code": {"type": "keyword", "normalizer": "lower"},
        }
    }


def test_the_index_settings_collect_every_definition_the_fields_and_index_use() -> None:
    index: AsyncIndex[Article] = AsyncIndex("articles")
    index.document(Article)
    assert index.to_dict()["settings"] == {
        "analysis": {
            "analyzer": {
                "folded": {"type": "custom", "tokenizer": "short_words", "filter": ["lowercase", "no_articles"]},
                "pairs": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "two"]},
            },
            "tokenizer": {"short_words": {"type": "standard", "max_token_length": 5}},
            "filter": {
                "no_articles": {"type": "stop", "stopwords": ["a", "an", "the"]},
                "two": {"type": "shingle", "max_shingle_size": 2},
            },
            "normalizer": {"lower": {"type": "custom", "filter": ["lowercase"]}},
        }
    }


def test_a_custom_analyzer_is_sent_inline_with_its_definitions() -> None:
    assert _inline(folded) == {
        "tokenizer": {"type": "standard", "max_token_length": 5},
        "filter": ["lowercase", {"type": "stop", "stopwords": ["a", "an", "the"]}],
    }


def test_builtin_and_bare_typed_analyzers_are_sent_by_name() -> None:
    assert _inline(analyzer("whitespace")) == {"analyzer": "whitespace"}
    assert _inline(analyzer("plain", "simple")) == {"analyzer": "simple"}
    assert _inline(normalizer("lowercase")) == {"normalizer": "lowercase"}


def test_a_custom_normalizer_is_sent_as_filters() -> None:
    assert _inline(lower) == {"filter": ["lowercase"]}


def test_a_configured_builtin_type_cannot_be_sent_inline() -> None:
    with pytest.raises(ValueError, match="'short' is a 'standard' analyzer with parameters .* pass index="):
        _inline(analyzer("short", "standard", max_token_length=5))


def test_explain_output_fills_tokens_from_the_last_stage() -> None:
    token = {"token": "dog", "start_offset": 2, "end_offset": 5, "type": "<ALPHANUM>", "position": 1}
    raw = {
        "detail": {
            "custom_analyzer": True,
            "charfilters": [],
            "tokenizer": {"name": "standard", "tokens": [{**token, "token": "Dog", "bytes": "[44 6f 67]"}]},
            "tokenfilters": [{"name": "lowercase", "tokens": [token]}],
        }
    }
    result = AnalyzeResult.model_validate(raw)
    assert result.terms == ["dog"]
    assert result.detail is not None and result.detail.tokenizer is not None
    assert result.detail.tokenizer.tokens[0].model_extra == {"bytes": "[44 6f 67]"}


def test_a_plain_answer_keeps_its_tokens() -> None:
    raw = {"tokens": [{"token": "a b", "start_offset": 0, "end_offset": 3, "type": "shingle", "position": 0, "positionLength": 2}]}
    result = AnalyzeResult.model_validate(raw)
    assert result.terms == ["a b"] and result.tokens[0].position_length == 2 and result.detail is None
