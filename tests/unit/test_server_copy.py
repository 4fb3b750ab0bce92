"""The server-side copy (``_reindex``) of a migration, against a scripted node: the exact requests, in order
(the fence taken before the task starts, an older owner's task cancelled and waited for before a new one),
the decisions of a resumed copy, and how the task's answers are read. The test node lacks the reindex module, so the integration test of
``apply(server_side=True)`` skips there; these pin what odm sends and how it reads the answers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from odm import MigrationFailedError, MigrationLockedError
from odm.migrations import _server_copy
from odm.migrations._run import Options, Run
from odm.migrations._state import MigrationState
from odm.migrations._server_step import server_copy as server_copy_step
from odm.migrations._server_copy import ReindexTask, missing_reindex_module, reindex_task, running_reindex_into, start_reindex, task_of
from tests.integration.migrate_models import PostV2
from tests.unit.fake_node import Request, fake_client

SOURCE, TARGET = "mig-posts-v1", "mig-posts-v2"
TERM, SEQ_NO = 3, 100  # the lease of a run_for() owner is the node's write (3, 101): its fence is named for it
FENCE = f"mig-posts-fence-{TERM}-{SEQ_NO + 1}"
OLDER, NEWER = "mig-posts-fence-3-50", "mig-posts-fence-4-2"
DONE = {"took": 9, "timed_out": False, "total": 3, "created": 3, "updated": 0, "deleted": 0, "batches": 1,
        "version_conflicts": 0, "noops": 0, "failures": []}


async def test_start_reindex_writes_through_the_fence_with_require_alias() -> None:
    async def answer(request: Request) -> tuple[int, Any]:
        return 200, {"task": "node-1:42"}

    client, requests = fake_client(answer)
    assert await start_reindex(client, SOURCE, FENCE, 500) == "node-1:42"
    [request] = requests
    assert (request.method, request.target) == ("POST", "/_reindex?require_alias=true&wait_for_completion=false")
    assert orjson.loads(request.body or b"") == {
        "source": {"index": SOURCE, "size": 500},
        "dest": {"index": FENCE, "op_type": "index"},
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
                "n1:7": {"id": 7, "description": f"reindex from [{SOURCE}] to [{OLDER}]"},
                "n1:8": {"id": 8, "description": f"reindex from [{SOURCE}] to [other]"},
                "n1:9": {"id": 9, "description": f"reindex from [{SOURCE}] to [{OLDER}]", "parent_task_id": "n1:7"},
                "n1:10": {"id": 10, "description": f"reindex from [{SOURCE}] to [{TARGET}]"},  # by name: older than any
                "n1:11": {"id": 11, "description": f"reindex from [{SOURCE}] to [{NEWER}-v2]"},  # a settings fence
                "n1:12": {"id": 12, "description": f"reindex from [{SOURCE}] to [mig-posts-fence-3-x]"},  # no fence
                "n1:13": {"id": 13, "description": f"reindex from [other] to [{OLDER}]"},
                "n1:14": {"id": 14, "description": f"reindex from [{SOURCE}] to [other-fence-3-50]"},
            }}}}
        return 200, {"nodes": {"a": {"name": "one", "modules": [{"name": "reindex"}]},
                               "b": {"name": "two", "modules": [{"name": "apm"}]}}}

    client, requests = fake_client(answer)
    assert await reindex_task(client, "n1:7") is None
    assert await running_reindex_into(client, SOURCE, "mig-posts", TARGET) == {
        "n1:7": (3, 50), "n1:10": (0, 0), "n1:11": (4, 2)
    }
    assert await missing_reindex_module(client) == ["two"]
    assert [r.target for r in requests] == [
        "/_tasks/n1:7",
        "/_tasks?actions=*reindex&detailed=true",
        "/_nodes/plugins?filter_path=nodes.*.name,nodes.*.modules.name",
    ]
    await client.close()


class ScriptedNode:
    """Answers the requests of a server-side copy: the lease, the fence aliases, the task management API.

    ``tasks`` maps a task id to its successive ``GET _tasks/<id>`` answers (the last one repeats; none:
    404, the cluster does not know it); ``running`` are the tasks ``GET _tasks`` lists; ``aliases`` the
    fence aliases (name -> indices), changed by ``_aliases`` calls."""

    def __init__(
        self, tasks: dict[str, list[dict[str, Any]]], hits: list[dict[str, Any]],
        running: dict[str, str] | None = None, aliases: dict[str, list[str]] | None = None,
    ) -> None:
        self.tasks, self.hits, self.seq_no = tasks, hits, SEQ_NO
        self.running = running or {}  # task id -> where it writes
        self.aliases = aliases or {}
        self.owner: str | None = None

    async def __call__(self, request: Request) -> tuple[int, Any]:
        path, method = request.path, request.method
        if path == f"/{SOURCE}/_stats/docs":
            return 200, {"indices": {SOURCE: {"shards": {"0": [
                {"routing": {"primary": True}, "seq_no": {"max_seq_no": 41, "local_checkpoint": 41}},
                {"routing": {"primary": False}, "seq_no": {"max_seq_no": 40, "local_checkpoint": 40}},
            ]}}}}
        if path.endswith("/_refresh") or path == "/_pit":
            return 200, {"succeeded": True}
        if path == f"/{SOURCE}/_count":
            return 200, {"count": 3}
        if path == "/odm-migrations/_doc/lock%3Amig-posts" and method == "GET":
            return 200, {"_id": "lock:mig-posts", "_seq_no": self.seq_no, "_primary_term": TERM, "found": True,
                         "_source": {"owner": self.owner}}
        if path.startswith(("/odm-migrations/_doc/", "/odm-migrations/_create/")):
            if path.endswith("lock%3Amig-posts"):
                self.owner = orjson.loads(request.body or b"")["owner"]
            self.seq_no += 1
            return 201, {"_seq_no": self.seq_no, "_primary_term": TERM, "result": "created"}
        if path == "/_alias/mig-posts-fence-*":
            by_index: dict[str, Any] = {}
            for name, indices in self.aliases.items():
                for index in indices:
                    by_index.setdefault(index, {"aliases": {}})["aliases"][name] = {}
            return (200, by_index) if by_index else (404, {"error": "alias [mig-posts-fence-*] missing", "status": 404})
        if path == "/_aliases":
            for action in orjson.loads(request.body or b"")["actions"]:
                for kind, what in action.items():
                    indices = self.aliases.setdefault(what["alias"], [])
                    indices.append(what["index"]) if kind == "add" else indices.remove(what["index"])
                    if not indices:
                        del self.aliases[what["alias"]]
            return 200, {"acknowledged": True, "errors": False}
        if path == "/_reindex":
            return 200, {"task": "n1:9"}
        if path == "/_tasks":
            return 200, {"nodes": {"n1": {"tasks": {
                id: {"id": int(id.split(":")[1]), "description": f"reindex from [{SOURCE}] to [{dest}]"}
                for id, dest in self.running.items()
            }}}}
        if path.startswith("/_tasks/") and path.endswith("/_cancel"):
            self.running.pop(path.split("/")[2], None)
            return 200, {"nodes": {}}
        if path.startswith("/_tasks/"):
            answers = self.tasks.get(path.removeprefix("/_tasks/"))
            if not answers:
                return 404, {"error": {"type": "resource_not_found_exception", "reason": "task not found"}, "status": 404}
            return 200, answers.pop(0) if len(answers) > 1 else answers[0]
        if path == f"/{TARGET}/_pit":
            return 200, {"id": "pit-1"}
        if path == "/_search":
            page, self.hits = self.hits, []
            return 200, {"pit_id": "pit-1", "hits": {"hits": page}}
        raise AssertionError(f"unexpected request {request.method} {request.target}")


def hit(id: str, source: dict[str, Any], sort: int) -> dict[str, Any]:
    return {"_index": TARGET, "_id": id, "_source": source, "sort": [sort]}


async def run_for(node: ScriptedNode, phase: str = "created", checkpoint: dict[str, Any] | None = None,
                  **options: Any) -> tuple[Run, MigrationState, list[Request]]:
    client, requests = fake_client(node)
    run = Run(PostV2, client, Options(server_side=True, page_size=10, **options))
    await run.lease.acquire()
    assert run.fence.name == FENCE
    state = MigrationState("mig-posts", phase, SOURCE, TARGET, "m:PostV2", run.lease.owner, server_side=True,
                           checkpoint=checkpoint)
    return run, state, requests


def sent(requests: list[Request]) -> list[tuple[str, str]]:
    """The requests, but the ones of the state index (the state and the lease)."""
    return [(r.method, r.path) for r in requests if not r.path.startswith("/odm-migrations/")]


TAKE_FENCE = [("GET", "/_alias/mig-posts-fence-*"), ("POST", "/_aliases"), ("GET", "/_alias/mig-posts-fence-*")]
NEW_COPY = [
    ("GET", f"/{SOURCE}/_stats/docs"),  # the marks first,
    ("POST", f"/{SOURCE}/_refresh"),  # then a refresh (what the reindex reads holds every write up to them),
    ("POST", f"/{SOURCE}/_count"),
    *TAKE_FENCE,  # then this owner's fence on the target,
    ("POST", "/_reindex"),  # then the task, through it
]
VALIDATE = [
    ("POST", f"/{TARGET}/_refresh"),  # then every copy read through the model, nothing written
    ("POST", f"/{TARGET}/_pit"),
    ("POST", "/_search"),
    ("DELETE", "/_pit"),
]


async def test_the_server_copy_takes_marks_then_its_fence_then_reindexes_then_reads_every_copy_through_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_server_copy, "POLL_SECONDS", 0)
    running = {"completed": False, "task": {"status": {"total": 3, "created": 1, "updated": 0}}}
    hits = [hit("p1", {"title": "a", "views": 1}, 1), hit("p2", {"title": "b", "views": -2}, 2),
            hit("p3", {"title": "c"}, 3)]
    node = ScriptedNode({"n1:9": [running, {"completed": True, "task": {}, "response": DONE}]}, hits,
                        aliases={OLDER: [TARGET]})
    events: list[tuple[str, int]] = []
    run, state, requests = await run_for(node, on_progress=lambda event: events.append((event.phase, event.copied)))
    await server_copy_step(run, state)

    assert sent(requests) == [*NEW_COPY, ("GET", "/_tasks/n1:9"), ("GET", "/_tasks/n1:9"), *VALIDATE[:3],
                              ("POST", "/_search"), VALIDATE[3]]
    [take] = [r for r in requests if r.path == "/_aliases"]
    assert orjson.loads(take.body or b"")["actions"] == [  # an older owner's fence goes in the same call
        {"remove": {"index": TARGET, "alias": OLDER, "must_exist": True}},
        {"add": {"index": TARGET, "alias": FENCE, "is_hidden": True}},
    ]
    [reindex] = [r for r in requests if r.path == "/_reindex"]
    assert reindex.target == "/_reindex?require_alias=true&wait_for_completion=false"
    assert orjson.loads(reindex.body or b"") == {
        "source": {"index": SOURCE, "size": 10}, "dest": {"index": FENCE, "op_type": "index"}, "conflicts": "abort"
    }
    state_writes = [orjson.loads(r.body or b"") for r in requests if r.path in ("/odm-migrations/_create/mig-posts", "/odm-migrations/_doc/mig-posts")]
    assert state_writes[0]["marks"] == {"0": 41} and state_writes[0]["checkpoint"] == {"task": None}  # before _reindex
    assert state_writes[1]["checkpoint"] == {"task": "n1:9"}  # a resume finds the task
    assert (state.copied, state.total) == (3, 3)
    assert events == [("copy", 1), ("copy", 3), ("validate", 3)]
    [(key, reason)] = run.invalid.items()
    assert key == ("p2", None) and "hit 'p2' in index 'mig-posts-v2' is not a valid PostV2: views:" in reason
    await run.client.close()


async def test_a_resumed_copy_cancels_the_older_owners_running_tasks_waits_for_them_then_copies_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorded task (through an older owner's fence) and one started by name before the copy was fenced:
    both cancelled, each waited for until it completed (or the cluster lost it), then a copy of this owner's."""
    monkeypatch.setattr(_server_copy, "POLL_SECONDS", 0)
    still = {"completed": False, "task": {"status": {"total": 3, "created": 2}}}
    cancelled = {"completed": True, "task": {}, "response": {**DONE, "created": 2, "canceled": "by user request"}}
    tasks = {"n1:7": [still, still, cancelled], "n1:9": [{"completed": True, "task": {}, "response": DONE}]}
    node = ScriptedNode(tasks, [], running={"n1:5": TARGET, "n1:7": OLDER})
    run, state, requests = await run_for(node, phase="copying", checkpoint={"task": "n1:7"})
    await server_copy_step(run, state)

    assert sent(requests) == [
        ("GET", "/_tasks"),  # the running tasks into any fence of the alias (or the target by name)
        ("GET", "/_tasks/n1:7"),  # the recorded one: still running
        ("POST", "/_tasks/n1:5/_cancel"),
        ("POST", "/_tasks/n1:7/_cancel"),
        ("GET", "/_tasks/n1:5"),  # unknown to the cluster: nothing to wait for
        ("GET", "/_tasks/n1:7"),
        ("GET", "/_tasks/n1:7"),  # completed: it writes nothing more
        *NEW_COPY,  # only then new marks, this owner's fence and task
        ("GET", "/_tasks/n1:9"),
        *VALIDATE,
    ]
    assert [r.target for r in requests if r.path.endswith("/_cancel")] == ["/_tasks/n1:5/_cancel", "/_tasks/n1:7/_cancel"]
    [reindex] = [r for r in requests if r.path == "/_reindex"]
    assert orjson.loads(reindex.body or b"")["dest"] == {"index": FENCE, "op_type": "index"}
    assert state.checkpoint == {"task": "n1:9"} and state.copied == 3
    await run.client.close()


@pytest.mark.parametrize("recorded", ["clean", "failed", "lost"])
async def test_a_resumed_copy_uses_the_recorded_task_only_if_it_completed_without_a_problem(recorded: str) -> None:
    refused = {**DONE, "created": 1, "failures": [{"index": OLDER, "id": "p2", "status": 404, "cause": {
        "type": "index_not_found_exception", "reason": f"no such index [{OLDER}]"}}]}
    answers = {"clean": [{"completed": True, "task": {}, "response": DONE}],
               "failed": [{"completed": True, "task": {}, "response": refused}], "lost": []}[recorded]
    node = ScriptedNode({"n1:7": answers, "n1:9": [{"completed": True, "task": {}, "response": DONE}]}, [])
    run, state, requests = await run_for(node, phase="copying", checkpoint={"task": "n1:7"})
    await server_copy_step(run, state)

    settled = [("GET", "/_tasks"), ("GET", "/_tasks/n1:7")]  # nothing running: nothing cancelled
    if recorded == "clean":  # its copy is whole: validated as it is
        assert sent(requests) == [*settled, *VALIDATE]
    else:  # a takeover stopped it (or the cluster lost it): copied again, by this owner
        assert sent(requests) == [*settled, *NEW_COPY, ("GET", "/_tasks/n1:9"), *VALIDATE]
    assert state.copied == 3
    await run.client.close()


async def test_a_task_through_a_newer_owners_fence_stops_this_owner_before_it_cancels_or_writes() -> None:
    node = ScriptedNode({}, [], running={"n1:7": NEWER})
    run, state, requests = await run_for(node, phase="copying", checkpoint={"task": None})
    with pytest.raises(MigrationLockedError, match="writes through a newer owner's fence"):
        await server_copy_step(run, state)
    assert sent(requests) == [("GET", "/_tasks")]
    await run.client.close()


async def test_its_own_task_stopped_by_a_takeover_is_a_lost_lock_not_a_failed_migration() -> None:
    """The new owner removed this owner's fence, then cancelled its task: this owner records nothing."""
    class TakenOver(ScriptedNode):
        async def __call__(self, request: Request) -> tuple[int, Any]:
            if request.path == "/_tasks/n1:9":  # the fence goes while the task runs
                self.aliases.clear()
            return await super().__call__(request)

    cancelled = {"completed": True, "task": {}, "response": {**DONE, "created": 1, "canceled": "by user request"}}
    node = TakenOver({"n1:9": [cancelled]}, [])
    run, state, requests = await run_for(node)
    with pytest.raises(MigrationLockedError, match="its _reindex task was stopped by the takeover"):
        await server_copy_step(run, state)
    phases = [orjson.loads(r.body or b"")["phase"] for r in requests if r.path in ("/odm-migrations/_create/mig-posts", "/odm-migrations/_doc/mig-posts")]
    assert phases == ["copying", "copying"]  # never "failed"
    await run.client.close()


async def test_failures_or_conflicts_of_the_reindex_fail_the_migration() -> None:
    failed = {**DONE, "created": 1, "failures": [
        {"index": TARGET, "id": "p2", "status": 400, "cause": {"type": "document_parsing_exception", "reason": "bad"}}
    ]}
    node = ScriptedNode({"n1:9": [{"completed": True, "task": {}, "response": failed}]}, [])
    run, state, requests = await run_for(node)
    with pytest.raises(MigrationFailedError) as stopped:
        await server_copy_step(run, state)
    assert f"the server's _reindex from {SOURCE} to {TARGET} failed: 1 failures: document 'p2': " \
        "document_parsing_exception: bad" in str(stopped.value)
    assert f"{TARGET} is left for inspection" in str(stopped.value)
    assert orjson.loads(requests[-1].body or b"")["phase"] == "failed"
    assert not any(r.path == "/_search" for r in requests)  # nothing validated or swapped after it
    await run.client.close()
