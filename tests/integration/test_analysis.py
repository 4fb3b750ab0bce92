"""Analysis against the real node: built-in analyzers, custom ones from the node's built-in parts.

The test node has no analysis-common module: its global analysis parts are the
analyzers standard, simple, whitespace, stop and keyword, the standard tokenizer and
the lowercase, stop and shingle token filters. Everything here is built from those.
"""

from __future__ import annotations

from typing import Annotated, cast

import pytest
from elasticsearch import AsyncElasticsearch, BadRequestError
from elasticsearch.dsl import analysis as dsl_analysis
from elasticsearch.dsl import analyzer as dsl_analyzer

from odm import (
    AnalyzeResult,
    AsyncDocument,
    AsyncIndex,
    Keyword,
    Text,
    analyzer,
    normalizer,
    simulate,
    token_filter,
    tokenizer,
)
from odm.testing.isolation import isolated

TEXT = "The Quick-Brown foxes, running!"

short_words = tokenizer("short_words", "standard", max_token_length=5)
no_articles = token_filter("no_articles", "stop", stopwords=["a", "an", "the"])
folded = analyzer("folded", tokenizer=short_words, filter=["lowercase", no_articles])
pairs = analyzer("pairs", tokenizer="standard", filter=["lowercase", token_filter("two", "shingle", max_shingle_size=2)])
lower = normalizer("lower", filter=["lowercase"])


class Article(AsyncDocument):
    title: Annotated[str, Text(analyzer=folded, fields={"pairs": Text(analyzer=pairs)})]
    code: Annotated[str, Keyword(normalizer=lower)]

    class Index:
        name = "articles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


@pytest.mark.parametrize(
    ("name", "terms"),
    [
        ("standard", ["the", "quick", "brown", "foxes", "running"]),
        ("simple", ["the", "quick", "brown", "foxes", "running"]),
        ("whitespace", ["The", "Quick-Brown", "foxes,", "running!"]),
        ("stop", ["quick", "brown", "foxes", "running"]),
        ("keyword", [TEXT]),
    ],
)
async def test_builtin_analyzers(odm_client: AsyncElasticsearch, name: str, terms: list[str]) -> None:
    result = await analyzer(name).async_simulate(TEXT)
    assert isinstance(result, AnalyzeResult)
    assert result.terms == terms


async def test_a_custom_analyzer_runs_inline(odm_client: AsyncElasticsearch) -> None:
    result = await folded.async_simulate(TEXT)
    assert result.terms == ["quick", "brown", "foxes", "runni", "ng"]
    assert [(t.start_offset, t.end_offset) for t in result.tokens[:2]] == [(4, 9), (10, 15)]
    assert (await pairs.async_simulate("Quick fox")).terms == ["quick", "quick fox", "fox"]


async def test_explain_shows_every_stage(odm_client: AsyncElasticsearch) -> None:
    result = await folded.async_simulate("The Fox", explain=True)
    assert result.detail is not None and result.detail.custom_analyzer
    assert result.detail.tokenizer is not None
    assert [t.token for t in result.detail.tokenizer.tokens] == ["The", "Fox"]
    assert [[t.token for t in stage.tokens] for stage in result.detail.tokenfilters] == [["the", "fox"], ["fox"]]
    assert result.terms == ["fox"]


async def test_a_client_can_be_passed_as_using(odm_client: AsyncElasticsearch) -> None:
    assert (await folded.async_simulate("A Fox", using=odm_client)).terms == ["fox"]


async def test_simulate_takes_elasticsearch_dsl_analyzers_too(odm_client: AsyncElasticsearch) -> None:
    # elasticsearch.dsl types its analyzer() as returning DslBase.
    mine = cast(dsl_analysis.CustomAnalyzer, dsl_analyzer("mine", tokenizer="standard", filter=["lowercase"]))
    assert (await simulate(mine, ["Hello World", "Again"])).terms == ["hello", "world", "again"]


async def test_init_puts_the_fields_analysis_into_the_index(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    articles = isolated(Article, index_prefix)
    await articles.init()
    name = articles.index_name()
    analysis = (await odm_client.indices.get_settings(index=name))[name]["settings"]["index"]["analysis"]
    assert analysis["analyzer"]["folded"] == {"type": "custom", "tokenizer": "short_words", "filter": ["lowercase", "no_articles"]}
    assert analysis["tokenizer"]["short_words"] == {"type": "standard", "max_token_length": "5"}
    assert analysis["normalizer"]["lower"] == {"type": "custom", "filter": ["lowercase"]}
    await articles.init()  # unchanged analysis on the open index is no conflict

    await articles(title="The Quick Fox", code="AB-12", meta={"id": "a1"}).save(refresh=True)
    assert [a.meta.id async for a in articles.search().query("match", title="quick")] == ["a1"]
    assert [a.meta.id async for a in articles.search().query("match", **{"title.pairs": "quick fox"})] == ["a1"]
    assert [a.meta.id async for a in articles.search().filter("term", code="ab-12")] == ["a1"]


async def test_with_index_the_stored_definitions_are_used(odm_client: AsyncElasticsearch, index_prefix: str) -> None:
    articles = isolated(Article, index_prefix)
    await articles.init()
    name = articles.index_name()
    assert (await folded.async_simulate("The Fox", index=name)).terms == ["fox"]
    assert (await simulate(lower, "AB-12", index=name)).terms == ["ab-12"]
    index_result = await AsyncIndex(name).analyze(analyzer="folded", text="The Fox")
    assert [t["token"] for t in index_result["tokens"]] == ["fox"]


async def test_a_configured_builtin_analyzer_is_simulated_in_its_index(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    short = analyzer("short", "standard", max_token_length=3, stopwords=["the"])
    index = AsyncIndex(index_prefix + "short")
    index.analyzer(short)
    await index.save()
    assert (await short.async_simulate("The Quick", index=index._name)).terms == ["qui", "ck"]
    with pytest.raises(ValueError, match="pass index="):
        await short.async_simulate("The Quick")


async def test_an_unknown_filter_is_elasticsearchs_error(odm_client: AsyncElasticsearch) -> None:
    broken = analyzer("broken", tokenizer="standard", filter=["no_such_filter"])
    with pytest.raises(BadRequestError, match="no_such_filter"):
        await broken.async_simulate("text")
