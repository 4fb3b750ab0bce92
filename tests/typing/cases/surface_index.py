"""Types of indexes, templates, mappings and analysis."""

from __future__ import annotations

from odm import NO_RETRIES, AsyncIndex, AsyncMapping, RetryPolicy, analyzer, normalizer, simulate
from tests.models.blog import Post


async def index() -> None:
    blog: AsyncIndex[Post] = AsyncIndex("blog")
    registered: type[Post] = blog.document(Post)
    reveal_type(blog.settings(number_of_shards=1))  # R: odm.index.AsyncIndex[tests.models.blog.Post]
    reveal_type(blog.clone("blog-v2"))  # R: odm.index.AsyncIndex[tests.models.blog.Post]
    reveal_type(blog.search())  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type(blog.search().query("match", title="x"))  # R: odm.search._search.AsyncSearch[tests.models.blog.Post]
    reveal_type(blog.updateByQuery())  # R: odm.update_by_query.AsyncUpdateByQuery[tests.models.blog.Post]
    reveal_type(await blog.exists())  # R: bool
    reveal_type(await blog.refresh())  # R: elastic_transport._response.ObjectApiResponse[Any]
    reveal_type(AsyncIndex("blog").search())  # R: odm.search._search.AsyncSearch[Any]
    reveal_type(blog.as_composable_template("blog", "blog-*", priority=1))  # R: odm.index.AsyncComposableIndexTemplate
    reveal_type(blog.as_template("blog", "blog-*"))  # R: odm.index.AsyncIndexTemplate
    await blog.save()
    await blog.put_alias(name="blog-read")
    await blog.update_aliases([{"add": {"alias": "blog-read"}}])
    blog.search(index="x")  # E: Unexpected keyword argument "index" for "search" of "AsyncIndex"  [call-arg]
    reveal_type(Post._index)  # R: odm.index.AsyncIndex[Any]
    reveal_type(await Post._index.refresh())  # R: elastic_transport._response.ObjectApiResponse[Any]
    reveal_type(blog.retry(NO_RETRIES))  # R: odm.index.AsyncIndex[tests.models.blog.Post]
    reveal_type(await blog.retry(RetryPolicy(max_retries=8)).delete())  # R: elastic_transport._response.ObjectApiResponse[Any]
    blog.retry(8)  # E: Argument 1 to "retry" of "AsyncIndex" has incompatible type "int"; expected "RetryPolicy"  [arg-type]
    await Post.init(retry=NO_RETRIES)
    await Post.init(retry=3)  # E: Argument "retry" to "init" of "AsyncDocument" has incompatible type "int"; expected "RetryPolicy | None"  [arg-type]


async def templates() -> None:
    template = Post.as_template("posts", priority=10)
    reveal_type(template)  # R: odm.index.AsyncComposableIndexTemplate
    reveal_type(await template.save())  # R: elastic_transport._response.ObjectApiResponse[Any]
    reveal_type(await template.exists())  # R: bool
    Post.as_template("posts", priority="high")  # E: Argument "priority" to "as_template" of "AsyncDocument" has incompatible type "str"; expected "int | None"  [arg-type]


async def mappings() -> None:
    model = AsyncMapping.from_document(Post)
    reveal_type(model)  # R: odm.index.AsyncMapping
    live = await AsyncMapping.from_es("posts")
    reveal_type(live)  # R: odm.index.AsyncMapping
    reveal_type(model.diff(live))  # R: odm._core.mapping_diff.MappingDiff
    reveal_type(model.diff({"properties": {}}).conflicts)  # R: list[str]
    await model.save("posts")


async def analysis() -> None:
    folded = analyzer("folded", tokenizer="standard", filter=["lowercase"])
    reveal_type(folded)  # R: odm.analysis.BuiltinAnalyzer | odm.analysis.CustomAnalyzer
    result = await folded.async_simulate("Hello World")
    reveal_type(result)  # R: odm.analysis.AnalyzeResult
    reveal_type(result.tokens[0].token)  # R: str
    reveal_type(result.terms)  # R: list[str]
    lower = normalizer("lower", filter=["lowercase"])
    reveal_type(lower)  # R: elasticsearch.dsl.analysis.BuiltinNormalizer | elasticsearch.dsl.analysis.CustomNormalizer
    reveal_type(await simulate(lower, "AB", index="posts"))  # R: odm.analysis.AnalyzeResult
    await simulate("standard", "text")  # E: Argument 1 to "simulate" has incompatible type "str"; expected "Analyzer | Normalizer"  [arg-type]
    await folded.async_simulate(42)  # E: Argument 1 to "async_simulate" of "_AsyncSimulate" has incompatible type "int"; expected "str | Sequence[str]"  [arg-type]
