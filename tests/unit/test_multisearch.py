"""AsyncMultiSearch without a server: the request lines, copies on add, checks before sending."""

from __future__ import annotations

import sys

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError, BadRequestError, NotFoundError
from elasticsearch.dsl import AsyncSearch as DslAsyncSearch

from odm import NO_RETRIES, ArgumentError, AsyncMultiSearch, AsyncSearch, InvalidIndexNameError
from odm.search._multisearch import _error_of
from tests.models.blog import Post

NOWHERE = "no-such-connection"  # any attempt to send raises KeyError: nothing was sent


def test_request_lines_are_a_header_and_a_body_per_search() -> None:
    ms = (
        AsyncMultiSearch[Post](index="blogs")
        .add(Post.search().filter("term", tags="python").params(routing="ann"))
        .add(Post.search(index="posts-*").query("match", title="hello").extra(size=3))
        .add(AsyncSearch().filter("term", tags="search"))
    )
    vectors = {"_source": {"exclude_vectors": False}}  # typed searches ask for them back (docs/documents.md)
    assert ms.to_dict() == [
        {"index": ["posts"], "routing": "ann"},
        {"query": {"bool": {"filter": [{"term": {"tags": "python"}}]}}, "seq_no_primary_term": True, **vectors},
        {"index": ["posts-*"]},
        {"query": {"match": {"title": "hello"}}, "size": 3, "seq_no_primary_term": True, **vectors},
        {},
        {"query": {"bool": {"filter": [{"term": {"tags": "search"}}]}}},
    ]
    assert ms._index == ["blogs"]


def test_add_returns_a_copy_and_keeps_the_order() -> None:
    first, second = Post.search().filter("term", tags="a"), Post.search().filter("term", tags="b")
    empty = AsyncMultiSearch[Post]()
    one = empty.add(first)
    two = one.add(second)
    assert list(empty) == [] and list(one) == [first] and list(two) == [first, second]
    assert two[1] is second


def test_add_refuses_an_elasticsearch_dsl_search() -> None:
    wanted = r"takes an odm\.AsyncSearch .*not elasticsearch\.dsl\._async\.search\.AsyncSearch"
    with pytest.raises(TypeError, match=wanted):
        AsyncMultiSearch().add(DslAsyncSearch())  # type: ignore[arg-type]


async def test_no_search_sends_nothing_and_gives_an_empty_list() -> None:
    assert await AsyncMultiSearch(using=NOWHERE).execute() == []


@pytest.mark.parametrize(
    ("ms_index", "search_index"), [("blogs?", "posts"), (None, "posts/../x"), (None, "..")]
)
async def test_bad_index_names_are_refused_before_sending(ms_index: str | None, search_index: str) -> None:
    with pytest.raises(InvalidIndexNameError):  # when the search is built, or at the latest before sending
        ms = AsyncMultiSearch[Post](using=NOWHERE, index=ms_index).add(Post.search(index=search_index))
        await ms.execute()


def test_a_failed_item_becomes_the_clients_own_exception() -> None:
    meta = ApiResponseMeta(200, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "localhost", 9200))
    item = {"error": {"type": "index_not_found_exception", "reason": "no such index [x]"}, "status": 404}
    error = _error_of(meta, item, "the search at index 1 (of 2) of the multi search")
    assert type(error) is NotFoundError
    assert (error.status_code, error.error, error.body) == (404, "index_not_found_exception", item)
    assert meta.status == 200  # the request's own meta is left as it was
    if sys.version_info >= (3, 11):
        assert error.__notes__ == ["raised by the search at index 1 (of 2) of the multi search"]


@pytest.mark.parametrize(
    ("status", "error_class"), [(400, BadRequestError), (429, ApiError), (500, ApiError)]
)
def test_statuses_map_as_the_client_maps_them(status: int, error_class: type[ApiError]) -> None:
    meta = ApiResponseMeta(200, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "localhost", 9200))
    error = _error_of(meta, {"error": "plain text", "status": status}, "the search at index 0 (of 1)")
    assert type(error) is error_class and error.status_code == status and error.error == "plain text"


def test_retry_gives_a_copy_with_the_policy_and_refuses_anything_else() -> None:
    ms = AsyncMultiSearch[Post]().add(Post.search())
    once = ms.retry(NO_RETRIES)
    assert once._retry is NO_RETRIES and ms._retry is None and list(once) == list(ms)
    assert once.add(Post.search())._retry is NO_RETRIES  # kept by add() and every copy
    with pytest.raises(ArgumentError, match=r"^retry\(\) takes a RetryPolicy, not dict$"):
        ms.retry({"max_retries": 0})  # type: ignore[arg-type]
    # the same rule, and the same words, as AsyncSearch.retry()
    with pytest.raises(ArgumentError, match=r"^retry\(\) takes a RetryPolicy, not dict$"):
        Post.search().retry({"max_retries": 0})  # type: ignore[arg-type]
