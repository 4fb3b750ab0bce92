"""Types of the multi-search, update-by-query and faceted-search results."""

from __future__ import annotations

from elasticsearch import ApiError

from odm import (
    NO_RETRIES,
    AsyncFacetedSearch,
    AsyncMultiSearch,
    AsyncSearch,
    AsyncUpdateByQuery,
    DateHistogramFacet,
    FacetedResponse,
    RetryPolicy,
    TermsFacet,
)
from tests.models.blog import Comment, Post


async def multi_search() -> None:
    typed = AsyncMultiSearch[Post]().add(Post.search()).add(Post.search().filter("term", tags="x"))
    reveal_type(typed)  # R: odm.search._multisearch.AsyncMultiSearch[tests.models.blog.Post]
    responses = await typed.execute()
    reveal_type(responses)  # R: list[odm.search._response.Response[tests.models.blog.Post]]
    reveal_type(responses[0].hits[0])  # R: tests.models.blog.Post
    reported = await typed.execute(raise_on_error=False)
    reveal_type(reported)  # R: list[odm.search._response.Response[tests.models.blog.Post] | elasticsearch.exceptions.ApiError]
    for item in reported:
        if not isinstance(item, ApiError):
            reveal_type(item)  # R: odm.search._response.Response[tests.models.blog.Post]

    mixed = AsyncMultiSearch[Post]().add(Post.search()).add(AsyncSearch(doc_type=Comment))
    reveal_type(mixed)  # R: odm.search._multisearch.AsyncMultiSearch[tests.models.blog.Post | tests.models.blog.Comment]

    untyped = AsyncMultiSearch(index="blogs")  # the seed page: untyped searches, attribute-dict hits
    untyped = untyped.add(AsyncSearch().filter("term", tags="python"))
    reveal_type((await untyped.execute())[0].hits[0])  # R: elasticsearch.dsl.response.hit.Hit

    comments = AsyncSearch(doc_type=Comment)
    narrow = AsyncMultiSearch[Post]()
    narrow = narrow.add(comments)  # E: Argument 1 to "add" of "AsyncMultiSearch" has incompatible type "AsyncSearch[Comment]"; expected "AsyncSearch[Post]"  [arg-type]

    reveal_type(mixed.retry(NO_RETRIES))  # R: odm.search._multisearch.AsyncMultiSearch[tests.models.blog.Post | tests.models.blog.Comment]
    typed.retry(3)  # E: Argument 1 to "retry" of "AsyncMultiSearch" has incompatible type "int"; expected "RetryPolicy"  [arg-type]


async def update_by_query() -> None:
    ubq = Post.update_by_query().filter("term", tags="python").script(source="ctx._source.views++")
    reveal_type(ubq)  # R: odm.update_by_query.AsyncUpdateByQuery[tests.models.blog.Post]
    result = await ubq.params(conflicts="proceed", refresh=True).execute()
    reveal_type(result.updated)  # R: int
    reveal_type(result.failures[0].cause)  # R: dict[str, Any]
    reveal_type(AsyncUpdateByQuery(index="posts"))  # R: odm.update_by_query.AsyncUpdateByQuery[elasticsearch.dsl.response.hit.Hit]


class PostSearch(AsyncFacetedSearch[Post]):
    doc_types = [Post]
    fields = ["title", "body"]
    facets = {
        "tags": TermsFacet(field="tags"),
        "month": DateHistogramFacet(field="created_at", calendar_interval="month"),
    }


class WrongModel(AsyncFacetedSearch[Post]):
    doc_types = [Comment]  # E: Incompatible types in assignment (expression has type "list[type[Comment]]", base class "AsyncFacetedSearch" defined the type as "Sequence[type[Post]] | None")  [assignment]


class PatientSearch(PostSearch):
    retry = RetryPolicy(max_retries=8)


class WrongPolicy(PostSearch):
    retry = 8  # E: Incompatible types in assignment (expression has type "int", base class "AsyncFacetedSearch" defined the type as "RetryPolicy | None")  [assignment]


class Untyped(AsyncFacetedSearch):  # as in elasticsearch-dsl: any documents, hits are Any
    doc_types = [Post, Comment]
    facets = {"tags": TermsFacet(field="tags")}


async def faceted_search() -> None:
    response = await PostSearch("python", filters={"tags": ["a", "b"]}, sort=["-views"])[0:5].execute()
    reveal_type(response)  # R: odm.search._faceted.FacetedResponse[tests.models.blog.Post]
    reveal_type(response.hits[0])  # R: tests.models.blog.Post
    reveal_type(response.facets.tags)  # R: list[tuple[Any, int, bool, fallback=odm.search._faceted.FacetValue]]
    value, count, selected = response.facets["month"][0]
    reveal_type(count)  # R: int
    reveal_type(selected)  # R: bool
    reveal_type(await PostSearch().count())  # R: int
    typed: FacetedResponse[Post] = response
    reveal_type((await Untyped().execute()).hits[0])  # R: Any
    reveal_type(await PatientSearch("python", retry=NO_RETRIES).execute())  # R: odm.search._faceted.FacetedResponse[tests.models.blog.Post]
    PostSearch("python", None, (), NO_RETRIES)  # E: Too many positional arguments for "PostSearch"  [call-arg]
