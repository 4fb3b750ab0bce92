"""The server-side copy (``_reindex``) of a migration, against a scripted node: the exact requests, in order,
and how the task's answers are read. The test node lacks the reindex module, so the integration test of
``apply(server_side=True)`` skips there; these pin what odm sends and how it reads the answers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from odm import MigrationFailedError
from odm.migrations import _server_copy
from odm.migrations._run import Options, Run
from odm.migrations._state import MigrationState
from odm.migrations._steps import _server_copy as server_copy_step
from odm.migrations._server_copy import ReindexTask, missing_reindex_module, reindex_task, running_reindex_into, start_reindex, task_of
from tests.integration.migrate_models import PostV2
from tests.unit.fake_node import Request, fake_client

SOURCE, TARGET = "mig-posts-v1", "mig-posts-v2"
DONE = {"took": 9, "timed_out": False, "total": 3, "created": 3, "updated": 0, "deleted": 0, "batches": 1,
        "version_conflicts": 0, "noops": 0, "failures": []}


async def test_start_reindex_sends_the_exact_request() -> None:
    async def answer(request: Request) -> tuple[int, Any]:
        return 200, {"task": "node-1:42"}

    client, requests = fake_client(answer)
    assert await start_reindex(client, SOURCE, TARGET, 500) == "node-1:42"
    [request] = requests
    assert (request.method, request.target) == ("POST", "/_reindex?wait_for_completion=false")
    assert orjson.loads(request.body or b"") == {
        "source": {"index": SOURCE, "size": 500},
        "dest": {"index": TARGET, "op_type": "index"},
        "conflicts": "abort",
    }
    await client.close()


def test_a_task_answer_is_read_and_every_problem_named() -> None:
    running = {"completed": False, "task": {"status": {"total": 10, "created": 4, "updated": 1}}}
    assert task_of(running) == ReindexTask(False, 5, 10)
    assert task_of({"completed": True, "task": {}, "response": DONE}) == ReindexTask(True, 3, 3)
    failed = {
        **DONE, "version_conflicts": 2, "timed_out": True,
        "failures": [{"index": TARGET, "id": "p7", "status": 400,
                      "cause": {"type": "document_parsing_exception", "reason": "failed to parse field [views]"}}],
    }
    assert task_of({"completed": True, "task": {}, "response": failed}).problems == (
        "1 failures: document 'p7': document_parsing_exception: failed to parse field [views]",
        "2 version conflicts",
        "a request of the task timed out",
    )
    error = {"completed": True, "task": {}, "error": {"type": "index_not_found_exception", "reason": "no such index"}}
    assert task_of(error).problems == ("the task failed: index_not_found_exception: no such index",)
    assert task_of({"completed": True, "task": {}}).problems == ("the task finished without a response",)


async def test_an_unknown_task_is_none_and_the_modules_and_running_tasks_are_read() -> None:
    async def answer(request: Request) -> tuple[int, Any]:
        if request.path.startswith("/_tasks/"):
            return 404, {"error": {"type": "resource_not_found_exception", "reason": "task not found"}, "status": 404}
        if request.path == "/_tasks":
            return 200, {"nodes": {"n1": {"tasks": {
                "n1:7": {"id": 7, "description": f"reindex from [{SOURCE}] to [{TARGET}]"},
                "n1:8": {"id": 8, "description": f"reindex from [{SOURCE}] to [other]"},
                "n1:9": {"id": 9, "description": f"reindex from [{SOURCE}] to [{TARGET}]", "parent_task_id": "n1:7"},
            }}}}
        return 200, {"nodes": {"a": {"name": "one", "modules": [{"name": "reindex"}]},
                               "b": {"name": "two", "modules": [{"name": "apm"}]}}}

    client, requests = fake_client(answer)
    assert await reindex_task(client, "n1:7") is None
    assert await running_reindex_into(client, SOURCE, TARGET) == ["n1:7"]
    assert await missing_reindex_module(client) == ["two"]
    assert [r.target for r in requests] == [
        "/_tasks/n1:7",
        "/_tasks?actions=*reindex&detailed=true",
        "/_nodes/plugins?filter_path=nodes.*.name,nodes.*.modules.name",
    ]
    await client.close()


class ScriptedNode:
    """Answers the requests of a server-side copy; ``task_answers`` are the successive ``GET _tasks`` answers."""

    def __init__(self, task_answers: list[dict[str, Any]], hits: list[dict[str, Any]]) -> None:
        self.task_answers, self.hits, self.seq_no = task_answers, hits, 0

    async def __call__(self, request: Request) -> tuple[int, Any]:
        path = request.path
        if path == f"/{SOURCE}/_stats/docs":
            return 200, {"indices": {SOURCE: {"shards": {"0": [
                {"routing": {"primary": True}, "seq_no": {"max_seq_no": 41, "local_checkpoint": 41}},
                {"routing": {"primary": False}, "seq_no": {"max_seq_no": 40, "local_checkpoint": 40}},
            ]}}}}
        if path.endswith("/_refresh") or path == "/_pit":
            return 200, {"succeeded": True}
        if path == f"/{SOURCE}/_count":
            return 200, {"count": 3}
        if path.startswith("/odm-migrations/_doc/"):
            self.seq_no += 1
            return 201, {"_seq_no": self.seq_no, "_primary_term": 1, "result": "created"}
        if path == "/_reindex":
            return 200, {"task": "n1:7"}
        if path == "/_tasks/n1:7":
            return 200, self.task_answers.pop(0)
        if path == f"/{TARGET}/_pit":
            return 200, {"id": "pit-1"}
        if path == "/_search":
            page, self.hits = self.hits, []
            return 200, {"pit_id": "pit-1", "hits": {"hits": page}}
        raise AssertionError(f"unexpected request {request.method} {request.target}")


def hit(id: str, source: dict[str, Any], sort: int) -> dict[str, Any]:
    return {"_index": TARGET, "_id": id, "_source": source, "sort": [sort]}


async def run_for(node: ScriptedNode, **options: Any) -> tuple[Run, MigrationState, list[Request]]:
    client, requests = fake_client(node)
    run = Run(PostV2, client, Options(server_side=True, page_size=10, **options))
    await run.lease.acquire()
    state = MigrationState("mig-posts", "created", SOURCE, TARGET, "m:PostV2", run.lease.owner, server_side=True)
    return run, state, requests


async def test_the_server_copy_takes_marks_then_reindexes_then_reads_every_copy_through_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_server_copy, "POLL_SECONDS", 0)
    running = {"completed": False, "task": {"status": {"total": 3, "created": 1, "updated": 0}}}
    hits = [hit("p1", {"title": "a", "views": 1}, 1), hit("p2", {"title": "b", "views": -2}, 2),
            hit("p3", {"title": "c"}, 3)]
    node = ScriptedNode([running, {"completed": True, "task": {}, "response": DONE}], hits)
    events: list[tuple[str, int]] = []
    run, state, requests = await run_for(node, on_progress=lambda event: events.append((event.phase, event.copied)))
    await server_copy_step(run, state)

    sent = [(r.method, r.path) for r in requests if not r.path.startswith("/odm-migrations/")]
    assert sent == [
        ("GET", f"/{SOURCE}/_stats/docs"),  # the marks first,
        ("POST", f"/{SOURCE}/_refresh"),  # then a refresh (what the reindex reads holds every write up to them),
        ("POST", f"/{SOURCE}/_count"),
        ("POST", "/_reindex"),  # then the task
        ("GET", "/_tasks/n1:7"),
        ("GET", "/_tasks/n1:7"),
        ("POST", f"/{TARGET}/_refresh"),  # then every copy read through the model, nothing written
        ("POST", f"/{TARGET}/_pit"),
        ("POST", "/_search"),
        ("POST", "/_search"),
        ("DELETE", "/_pit"),
    ]
    [reindex] = [r for r in requests if r.path == "/_reindex"]
    assert reindex.target == "/_reindex?wait_for_completion=false"
    assert orjson.loads(reindex.body or b"") == {
        "source": {"index": SOURCE, "size": 10}, "dest": {"index": TARGET, "op_type": "index"}, "conflicts": "abort"
    }
    state_writes = [orjson.loads(r.body or b"") for r in requests if r.path == "/odm-migrations/_doc/mig-posts"]
    assert state_writes[0]["marks"] == {"0": 41} and state_writes[0]["checkpoint"] == {"task": None}  # before _reindex
    assert state_writes[1]["checkpoint"] == {"task": "n1:7"}  # a resume finds the task
    assert (state.copied, state.total) == (3, 3)
    assert events == [("copy", 1), ("copy", 3), ("validate", 3)]
    [(key, reason)] = run.invalid.items()
    assert key == ("p2", None) and "hit 'p2' in index 'mig-posts-v2' is not a valid PostV2: views:" in reason
    await run.client.close()


async def test_failures_or_conflicts_of_the_reindex_fail_the_migration() -> None:
    failed = {**DONE, "created": 1, "failures": [
        {"index": TARGET, "id": "p2", "status": 400, "cause": {"type": "document_parsing_exception", "reason": "bad"}}
    ]}
    node = ScriptedNode([{"completed": True, "task": {}, "response": failed}], [])
    run, state, requests = await run_for(node)
    with pytest.raises(MigrationFailedError) as stopped:
        await server_copy_step(run, state)
    assert f"the server's _reindex from {SOURCE} to {TARGET} failed: 1 failures: document 'p2': " \
        "document_parsing_exception: bad" in str(stopped.value)
    assert f"{TARGET} is left for inspection" in str(stopped.value)
    assert orjson.loads(requests[-1].body or b"")["phase"] == "failed"
    assert not any(r.path == "/_search" for r in requests)  # nothing validated or swapped after it
    await run.client.close()
