"""Bulk writes against the real node: every input accounted for, the index holds exactly the successes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import pytest
from elasticsearch import AsyncElasticsearch

from odm import (
    AsyncDocument,
    BulkError,
    BulkItemError,
    CreateAction,
    DeleteAction,
    DocumentExistsError,
    DocumentValidationError,
    IndexAction,
    InvalidIdError,
    Keyword,
    Object,
    UpdateAction,
)
from odm.testing.isolation import isolated
from tests.models.blog import Post

WHEN = datetime(2026, 11, 24, 12, 0, 0)
LONG_MAX = 2**63 - 1


@pytest.fixture
async def posts(odm_client: AsyncElasticsearch, index_prefix: str) -> type[Post]:
    bound = isolated(Post, index_prefix)
    await bound.init()
    return bound


async def count(client: AsyncElasticsearch, index: str, **query: Any) -> int:
    return int((await client.count(index=index, **query))["count"])


async def test_100000_inputs_add_up_and_the_index_holds_exactly_the_successes(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    existing = [posts(title="existing", created_at=WHEN, meta={"id": f"e-{n}"}) for n in range(1_000)]
    assert (await posts.bulk(existing, refresh=True)).ok

    inputs: list[Any] = []
    expected: dict[str, list[int]] = {"invalid": [], "conflict": [], "rejected": [], "ok": []}
    for n in range(100_000):
        if n % 97 == 1:  # changed in place after validation: caught before sending
            invalid = posts(title="invalid", created_at=WHEN, meta={"id": f"n-{n}"})
            invalid.tags.append(n)  # type: ignore[arg-type]
            inputs.append(invalid)
            expected["invalid"].append(n)
        elif n % 101 == 2:  # op_type create on an id that exists: 409
            inputs.append(CreateAction(posts(title="conflict", created_at=WHEN, meta={"id": f"e-{n % 1_000}"})))
            expected["conflict"].append(n)
        elif n % 103 == 3:  # a valid Python int the long mapping refuses: 400 from Elasticsearch
            inputs.append(posts(title="rejected", views=LONG_MAX + n, created_at=WHEN, meta={"id": f"n-{n}"}))
            expected["rejected"].append(n)
        else:
            inputs.append(posts(title="new", views=n, created_at=WHEN, meta={"id": f"n-{n}"}))
            expected["ok"].append(n)

    result = await posts.bulk(inputs, refresh=True, chunk_size=1_000)

    assert result.total == 100_000 and result.not_attempted == []
    assert [s.position for s in result.succeeded] == expected["ok"]
    by_kind: dict[str, list[int]] = {"invalid": [], "conflict": [], "rejected": []}
    for failure in result.failed:
        error = failure.error
        if isinstance(error, DocumentValidationError):
            by_kind["invalid"].append(failure.position)
            assert "tags.0: Input should be a valid string" in str(error)
        elif isinstance(error, BulkItemError) and error.status == 409:
            by_kind["conflict"].append(failure.position)
            assert error.type == "version_conflict_engine_exception"
        else:
            assert isinstance(error, BulkItemError) and error.status == 400, error
            assert error.type == "document_parsing_exception" and "views" in error.reason
            by_kind["rejected"].append(failure.position)
        assert failure.document is inputs[failure.position] or failure.action is inputs[failure.position]
    assert by_kind == {kind: expected[kind] for kind in by_kind}

    index = posts.index_name()
    assert await count(odm_client, index) == 1_000 + len(expected["ok"])
    assert await count(odm_client, index, query={"term": {"title.raw": "new"}}) == len(expected["ok"])
    assert await count(odm_client, index, query={"terms": {"title.raw": ["invalid", "conflict", "rejected"]}}) == 0
    assert await count(odm_client, index, query={"term": {"title.raw": "existing"}}) == 1_000
    written = inputs[expected["ok"][-1]]
    assert (written.meta.index, written.meta.version, written.meta.primary_term) == (index, 1, 1)
    assert written.meta.seq_no is not None


async def test_each_action_does_what_it_says_and_meta_allows_a_safe_save_back(
    odm_client: AsyncElasticsearch, posts: type[Post]
) -> None:
    a, b, c = (posts(title=t, created_at=WHEN, meta={"id": t}) for t in "abc")
    assert (await posts.bulk([a, b, c, IndexAction(posts(title="routed", created_at=WHEN, meta={"id": "r"}), routing="ann")])).ok
    assert a.meta.seq_no is not None and a.meta.primary_term is not None

    stale = await posts.get("a")
    result = await posts.bulk(
        [
            UpdateAction(a, {"views": "5"}),
            UpdateAction("b", {"tags": ["x"]}),
            DeleteAction(c),
            DeleteAction("r", routing="ann"),
            CreateAction(posts(title="again", created_at=WHEN, meta={"id": "b"})),
        ],
        refresh=True,
    )
    assert [s.position for s in result.succeeded] == [0, 1, 2, 3]
    assert [s.result for s in result.succeeded] == ["updated", "updated", "deleted", "deleted"]
    [conflict] = result.failed
    assert isinstance(conflict.error, BulkItemError) and conflict.error.status == 409
    assert a.views == 5 and (await posts.get("a")).views == 5
    assert (await posts.get("b")).tags == ["x"]
    assert await posts.get_or_none("c") is None and await count(odm_client, posts.index_name()) == 2

    stale.title = "lost update"
    refused = await posts.bulk([IndexAction(stale, if_unchanged=True)])
    assert isinstance(refused.failed[0].error, BulkItemError) and refused.failed[0].error.status == 409
    assert (await posts.bulk([IndexAction(a, if_unchanged=True)], raise_on_error=True)).ok


async def test_invalid_inputs_are_reported_and_nothing_is_written(
    odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    unborn = isolated(Post, index_prefix)  # its index does not exist, and must not be created
    changed = unborn(title="t", created_at=WHEN)
    changed.comments.append({"author": "x"})  # type: ignore[arg-type]
    with pytest.raises(BulkError) as caught:
        await unborn.bulk(
            [changed, unborn(title="t", created_at=WHEN, meta={"id": ".."}), UpdateAction("x", {"views": "many"})],
            raise_on_error=True,
        )
    errors = [type(f.error) for f in caught.value.result.failed]
    assert errors == [DocumentValidationError, InvalidIdError, DocumentValidationError]
    assert not await odm_client.indices.exists(index=unborn.index_name())


async def test_an_async_stream_is_written_in_chunks(odm_client: AsyncElasticsearch, posts: type[Post]) -> None:
    async def stream() -> AsyncIterator[Post]:
        for n in range(1_250):
            yield posts(title="streamed", views=n, created_at=WHEN)

    seen: list[int] = []
    result = await posts.bulk(
        stream(), chunk_size=100, max_concurrent_chunks=1, refresh="wait_for", progress=lambda r: seen.append(r.total)
    )
    assert result.ok and len(result.succeeded) == 1_250
    assert seen == [*range(100, 1_300, 100), 1_250, 1_250]
    assert await count(odm_client, posts.index_name()) == 1_250


class Setting(AsyncDocument):
    name: Annotated[str, Keyword()]
    value: Annotated[dict[str, Any], Object(enabled=False)] = {}  # kept as sent, never parsed

    class Index:
        name = "settings"


@pytest.mark.parametrize(("ours", "theirs"), [(True, 1), (False, 0), (1.0, 1), ([1, True], [1, 1])])
async def test_a_create_meeting_a_document_equal_only_as_python_values_is_a_conflict(
    odm_client: AsyncElasticsearch, index_prefix: str, ours: Any, theirs: Any
) -> None:
    """Python finds ``True == 1 == 1.0``; the stored JSON ``1`` is not the ``true`` a create sent,
    so the create was not written: a conflict, never a confirmed success (found in review R3)."""
    settings = isolated(Setting, index_prefix)
    await settings.init()
    stored = {"name": "a", "value": {"v": theirs}}
    await odm_client.index(index=settings.index_name(), id="a", document=stored, refresh=True)
    result = await settings.bulk([CreateAction(settings(name="a", value={"v": ours}, meta={"id": "a"}))])
    assert not result.succeeded
    [conflict] = result.failed
    assert isinstance(conflict.error, BulkItemError) and conflict.error.status == 409
    with pytest.raises(DocumentExistsError):
        await settings(name="a", value={"v": ours}, meta={"id": "a"}).save(op_type="create")
    assert (await odm_client.get(index=settings.index_name(), id="a"))["_source"] == stored
