"""Analysis: custom analyzers in field annotations, collected by init(), tried with async_simulate()."""

import asyncio
import os
from typing import Annotated

from odm import AsyncDocument, Keyword, Text, analyzer, normalizer, simulate, token_filter, tokenizer

PREFIX = os.environ.get("ODM_INDEX_PREFIX", "")

# Built only from parts every Elasticsearch node has (no analysis-common module needed).
short_words = tokenizer("short_words", "standard", max_token_length=10)
no_articles = token_filter("no_articles", "stop", stopwords=["a", "an", "the"])
folded = analyzer("folded", tokenizer=short_words, filter=["lowercase", no_articles])
phrases = analyzer("phrases", tokenizer="standard", filter=["lowercase", token_filter("pairs", "shingle")])
lower = normalizer("lower", filter=["lowercase"])


class Article(AsyncDocument):
    title: Annotated[str, Text(analyzer=folded, fields={"phrases": Text(analyzer=phrases)})]
    code: Annotated[str, Keyword(normalizer=lower)]

    class Index:
        name = PREFIX + "articles"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


async def main() -> None:
    # The Analyze API, through odm's connections: no index needed for a custom analyzer.
    response = await folded.async_simulate("The Quick Brown Fox")
    print([t.token for t in response.tokens])  # ['quick', 'brown', 'fox']
    print(response.terms)  # the same, shorter
    print((await analyzer("whitespace").async_simulate("The Quick-Brown")).terms)  # ['The', 'Quick-Brown']

    # explain=True shows every stage.
    detail = (await folded.async_simulate("The Fox", explain=True)).detail
    assert detail is not None
    for stage in detail.tokenfilters:
        print(stage.name, [t.token for t in stage.tokens])  # lowercase ['the', 'fox'], then __anonymous__stop ['fox']

    # init() puts every analyzer, tokenizer, filter and normalizer the fields use into the settings.
    await Article.init()
    await Article(title="The Rise of Python", code="PY-3", meta={"id": "1"}).save(refresh=True)
    print(await Article.search().query("match", title="the rise").count())  # 1
    print(await Article.search().query("match_phrase", **{"title.phrases": "rise of"}).count())  # 1
    print(await Article.search().filter("term", code="py-3").count())  # 1: the normalizer lowercased it

    # As defined in the index: analyzers and normalizers by name.
    print((await simulate(lower, "PY-3", index=Article.index_name())).terms)  # ['py-3']


if __name__ == "__main__":
    from odm.testing import run_example

    asyncio.run(run_example(main))  # connects to $ODM_ES_URL, or starts a local node
