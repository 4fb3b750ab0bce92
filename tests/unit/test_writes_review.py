"""Review of the write path: a scripted update that lost its answer must not be run a second time.

The node here is a fake (tests/unit/fake_node.py) that applies ``ctx._source.views += params.n``
on each ``_update`` it receives, because the test node has no scripting (lang-painless).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import elastic_transport
import pytest

from odm import OutcomeUnknownError, RetryPolicy
from tests.models.blog import Post
from tests.unit.fake_node import Request, fake_client

WHEN = datetime(2026, 11, 24, 12, 0, 0)


def counting_node() -> tuple[Any, dict[str, int]]:
    """A node whose first answer is lost after it applied the script; it holds ``views``."""
    state = {"views": 5, "applied": 0}
    lost = [True]

    async def handler(request: Request) -> tuple[int, Any]:
        state["views"] += 1
        state["applied"] += 1
        if lost:
            lost.pop()
            raise elastic_transport.ConnectionError("reset after the node applied it")
        return 200, {"_index": "posts", "_id": "p1", "_version": 3, "result": "updated", "_seq_no": 2, "_primary_term": 1}

    return handler, state


async def test_a_scripted_update_by_id_whose_answer_was_lost_is_not_run_twice() -> None:
    handler, state = counting_node()
    client, requests = fake_client(handler)
    with pytest.raises(OutcomeUnknownError):
        await Post.update_by_id(
            "p1", script="ctx._source.views += params.n", params={"n": 1}, using=client,
            retry=RetryPolicy(initial_backoff=0),
        )
    assert state["applied"] == 1, f"the script ran {state['applied']} times: views {state['views']} (5 + 1 expected)"
    assert [r.path for r in requests] == ["/posts/_update/p1"]

