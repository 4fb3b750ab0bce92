"""AsyncUpdateByQuery without a server: the request body, the index, the typed result."""

from __future__ import annotations

import pytest

from odm import (
    AsyncUpdateByQuery,
    InvalidIndexNameError,
    Q,
    UpdateByQueryFailure,
    UpdateByQueryResult,
    UpdateByQueryRetries,
)
from tests.models.blog import Post

NOWHERE = "no-such-connection"  # any attempt to send raises KeyError: nothing was sent


def test_the_request_holds_query_script_extra_keys_and_params() -> None:
    ubq = (
        Post.update_by_query()
        .filter("term", tags="python")
        .exclude("range", views={"gte": 100})
        .script(source="ctx._source.views += params.n", lang="painless", params={"n": 1})
        .params(conflicts="proceed", refresh=True)
        .extra(max_docs=50)
    )
    assert ubq.to_dict() == {
        "query": {
            "bool": {
                "filter": [
                    {"term": {"tags": "python"}},
                    {"bool": {"must_not": [{"range": {"views": {"gte": 100}}}]}},
                ]
            }
        },
        "script": {"source": "ctx._source.views += params.n", "lang": "painless", "params": {"n": 1}},
        "max_docs": 50,
    }
    assert ubq._params == {"conflicts": "proceed", "refresh": True}
    assert ubq._index == ["posts"]


def test_each_call_returns_a_copy_and_a_second_script_replaces_the_first() -> None:
    base = Post.update_by_query()
    first = base.query(Q("match", title="hello")).script(source="a")
    second = first.script(source="b")
    assert base.to_dict() == {}
    assert first.to_dict() == {"query": {"match": {"title": "hello"}}, "script": {"source": "a"}}
    assert second.to_dict() == {"query": {"match": {"title": "hello"}}, "script": {"source": "b"}}


def test_the_index_comes_from_the_argument_or_the_document() -> None:
    assert Post.update_by_query(index="posts-2026-*")._index == ["posts-2026-*"]
    assert AsyncUpdateByQuery(index=["a", "b"])._index == ["a", "b"]
    assert AsyncUpdateByQuery(doc_type=Post)._index == ["posts"]
    assert AsyncUpdateByQuery(index="other", doc_type=Post)._index == ["other"]


async def test_no_index_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="update by query needs an index"):
        await AsyncUpdateByQuery(using=NOWHERE).execute()


@pytest.mark.parametrize("index", ["posts?", "..", "posts/_doc"])
async def test_a_bad_index_name_is_refused_before_sending(index: str) -> None:
    with pytest.raises(InvalidIndexNameError):
        await Post.update_by_query(using=NOWHERE, index=index).execute()


def test_the_result_reads_elasticsearchs_answer() -> None:
    body = {
        "took": 147,
        "timed_out": False,
        "total": 5,
        "updated": 3,
        "deleted": 0,
        "batches": 1,
        "version_conflicts": 2,
        "noops": 0,
        "retries": {"bulk": 0, "search": 1},
        "throttled_millis": 0,
        "requests_per_second": -1.0,
        "throttled_until_millis": 0,
        "failures": [
            {
                "index": "posts",
                "id": "p1",
                "cause": {"type": "version_conflict_engine_exception", "reason": "[p1]: version conflict"},
                "status": 409,
            },
            {"shard": 0, "index": "posts", "node": "n1", "reason": {"type": "search_exception", "reason": "bad"}},
        ],
    }
    result = UpdateByQueryResult.model_validate(body)
    assert (result.total, result.updated, result.version_conflicts, result.batches) == (5, 3, 2, 1)
    assert result.retries == UpdateByQueryRetries(bulk=0, search=1)
    conflict, shard = result.failures
    assert conflict == UpdateByQueryFailure(
        index="posts",
        id="p1",
        status=409,
        cause={"type": "version_conflict_engine_exception", "reason": "[p1]: version conflict"},
    )
    assert shard.cause == {"type": "search_exception", "reason": "bad"} and shard.id is None
    assert shard.model_extra == {"shard": 0, "node": "n1"}
    assert not result.success() and result.task is None


def test_a_clean_result_is_a_success_and_a_background_one_has_only_a_task() -> None:
    assert UpdateByQueryResult.model_validate({"took": 3, "total": 0, "failures": []}).success()
    background = UpdateByQueryResult.model_validate({"task": "node-1:42"})
    assert background.task == "node-1:42" and background.updated == 0 and background.success()


def test_field_expressions_build_the_query() -> None:
    ubq = Post.update_by_query().filter(Post.views > 10).exclude(Post.tags == "draft")
    assert ubq.to_dict() == {
        "query": {
            "bool": {
                "filter": [
                    {"range": {"views": {"gt": 10}}},
                    {"bool": {"must_not": [{"term": {"tags": "draft"}}]}},
                ]
            }
        }
    }
