"""odm.migrate's pure parts: the copy's transform-and-validate step, the state document, the lease clock, texts."""

from __future__ import annotations

from typing import Any, cast

import pytest
from elasticsearch import AsyncElasticsearch

from odm import MigrationLockedError, MigrationResult, Rejected
from odm.migrations import _state as _migration_state
from odm.migrations._copy import Copier
from odm.migrations._run import Options, Run
from odm.migrations._state import MigrationState
from odm.schema._lock import Lease
from tests.integration.migrate_models import PostV2, rename, rename_dropping_drafts
from tests.unit.fake_node import Request, fake_client

NO_CLIENT = cast(AsyncElasticsearch, None)  # prepare() sends nothing


def hit(id: str, source: dict[str, Any], routing: str | None = None) -> dict[str, Any]:
    return {"_index": "old", "_id": id, "_source": source, **({"_routing": routing} if routing else {})}


def test_prepare_transforms_validates_and_sorts_out_what_cannot_be_copied() -> None:
    def fussy(source: dict[str, Any]) -> dict[str, Any] | None:
        if source["name"] == "boom":
            raise ValueError("cannot")
        return rename_dropping_drafts(source)

    copier = Copier(NO_CLIENT, "posts", PostV2, "posts-v2", fussy)
    documents, page = copier.prepare(
        [
            hit("a", {"name": "kept", "views": 1, "extra": {"x": 1}}, routing="r1"),
            hit("b", {"name": "draft b"}),
            hit("c", {"name": "boom"}),
            hit("d", {"name": "negative", "views": -1}),
        ]
    )
    assert [(d.meta.id, d.meta.routing, d.title) for d in documents] == [("a", "r1", "kept")]
    assert documents[0].meta.unknown_fields == {"extra": {"x": 1}}  # kept, as save() keeps them
    assert documents[0].to_source("posts-v2") == b'{"title":"kept","views":1,"extra":{"x":1}}'
    assert page.dropped == {("b", None)}
    assert page.invalid[("c", None)] == "the transform raised ValueError: cannot"
    assert "hit 'd' in index 'posts-v2' is not a valid PostV2: views: Input should be greater than or equal to 0" in (
        page.invalid[("d", None)]
    )


def test_expected_source_is_what_the_copy_writes() -> None:
    copier = Copier(NO_CLIENT, "posts", PostV2, "posts-v2", rename)
    assert copier.expected_source(hit("a", {"name": "x", "views": 2})) == {"title": "x", "views": 2}
    assert copier.expected_source(hit("a", {"name": "x", "views": -2})) is None


def test_the_state_keeps_counts_always_and_ids_up_to_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    state = MigrationState("posts", "copying", "posts-v1", "posts-v2", "m:Post", "me")
    invalid = {("b", None): "bad", ("a", "r"): "worse"}
    state.record_rejects(invalid, {("d", None)})
    assert state.invalid == [{"id": "a", "routing": "r", "reason": "worse"}, {"id": "b", "routing": None, "reason": "bad"}]
    again = MigrationState.from_source(state.to_source() | {"unknown": 1})
    assert again.rejects() == (invalid, {("d", None)}) and not again.ids_truncated
    assert again.rejected() == (Rejected("a", "worse", "r"), Rejected("b", "bad", None))

    monkeypatch.setattr(_migration_state, "INVALID_IDS_KEPT", 1)
    state.record_rejects(invalid, set())
    assert (state.invalid_count, len(state.invalid), state.ids_truncated) == (2, 1, True)


def test_a_lease_past_its_expiry_is_lost() -> None:
    lease = Lease(NO_CLIENT, "odm-migrations", "posts", 60, "me")
    with pytest.raises(MigrationLockedError, match="lost the migration lock: the lease expired"):
        lease.check()  # never acquired: expired at 0


def test_result_texts() -> None:
    result = MigrationResult("posts", "migrated", "posts-v1", "posts-v2", 10, 9, 3, (Rejected("x", "bad"),), 1, (), 0, 1.25)
    assert str(result) == "posts: migrated posts-v1 -> posts-v2: 9 copied of 10, 3 caught up, 1 invalid, 0 dropped in 1.2 s"
    assert str(MigrationResult("posts", "nothing")) == "posts: nothing to do in 0.0 s"


async def test_the_copy_marks_are_local_checkpoints_not_the_highest_numbers_issued() -> None:
    """A write issued seq_no 41 may not be in Lucene when the refresh before the point in time runs:
    a mark of 41 would leave it out of both the copy and the catch-up (``_seq_no > mark``)."""
    async def answer(request: Request) -> tuple[int, Any]:
        if request.path == "/old/_stats/docs":
            return 200, {"indices": {"old": {"shards": {"0": [
                {"routing": {"primary": True}, "seq_no": {"max_seq_no": 41, "local_checkpoint": 37}},
                {"routing": {"primary": False}, "seq_no": {"max_seq_no": 40, "local_checkpoint": 36}},
            ]}}}}
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}

    client, requests = fake_client(answer)
    state = MigrationState("posts", "created", "old", "posts-v2", "m:PostV2", "me")
    await Run(PostV2, client, Options()).take_marks(state)
    assert state.marks == {"0": 37}
    assert [r.path for r in requests] == ["/old/_stats/docs", "/old/_refresh"]  # marks, then the refresh
    await client.close()
