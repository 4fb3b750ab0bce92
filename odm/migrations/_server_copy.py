"""The server-side copy of a migration: Elasticsearch's ``_reindex``, run as a task and polled.

``_reindex`` copies each ``_source`` as it is (no model, no transform), keeping ids and
routing. It writes through the fence of the lock's owner (:mod:`odm.schema._fence`),
with ``require_alias=true``: each batch of the task resolves the alias again, so once a
takeover removed it, every later batch is refused and the task fails. It is started with
``wait_for_completion=false``, so its task id can be kept in the migration state: a
resumed migration finds the task (its stored result, or an older owner's task still
running, which it cancels). Its answer is checked: any failure, version conflict, time-out
or error fails the migration. The reindex module must be on the node; the test node
lacks it (docs/migrations.md).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch, AuthorizationException, NotFoundError

from ..schema._fence import fence_generation

__all__ = [
    "ReindexTask",
    "cancel_task",
    "missing_reindex_module",
    "poll_reindex",
    "reindex_body",
    "reindex_task",
    "running_reindex_into",
    "start_reindex",
    "task_of",
]

#: Seconds between two polls of a running ``_reindex`` task.
POLL_SECONDS = 1.0

_LISTED = 10  # failures named in a message


def reindex_body(source: str, fence: str, batch_size: int) -> dict[str, Any]:
    """The ``_reindex`` body: every document of ``source`` into the index behind the alias ``fence``,
    overwriting, aborting on any conflict."""
    return {
        "source": {"index": source, "size": batch_size},
        "dest": {"index": fence, "op_type": "index"},
        "conflicts": "abort",
    }


async def start_reindex(client: AsyncElasticsearch, source: str, fence: str, batch_size: int) -> str:
    """Start ``_reindex`` from ``source`` through the alias ``fence`` (``require_alias=true``: the task
    writes nothing once the alias is gone, and creates no index of its name) as a task; its id."""
    answer = await client.reindex(
        **reindex_body(source, fence, batch_size), require_alias=True, wait_for_completion=False
    )
    return str(answer["task"])


@dataclass(frozen=True)
class ReindexTask:
    """Where a ``_reindex`` task is: done or not, documents written so far, and what went wrong.

    Attributes:
        completed: the task finished (its ``response`` or ``error`` is final).
        written: documents created or updated in the target so far.
        total: documents the task found to copy.
        problems: what makes the copy unusable (failures, version conflicts, a time-out,
            the task's error), one line each; empty when it went well.
    """

    completed: bool
    written: int
    total: int
    problems: tuple[str, ...] = ()


async def _tasks(
    client: AsyncElasticsearch, path: str, params: dict[str, Any] | None = None, method: str = "GET"
) -> Any:
    """A request of the task management API, sent as is: the client's ``tasks`` methods warn on every
    call that the API is a technical preview (it has been stable since 5.0; reindex tasks use it)."""
    answer = await client.perform_request(
        method, path, params=params or {}, headers={"accept": "application/json"}, endpoint_id="tasks", path_parts={},
    )
    return answer.body


async def cancel_task(client: AsyncElasticsearch, task_id: str) -> None:
    """``POST _tasks/<id>/_cancel``; the task stops after the batch it is writing (wait for it with
    :func:`poll_reindex`). A task that ended meanwhile is no error (the node answers with a
    ``node_failures`` entry, not a status)."""
    await _tasks(client, f"/_tasks/{urllib.parse.quote(task_id, safe=':')}/_cancel", method="POST")


async def reindex_task(client: AsyncElasticsearch, task_id: str) -> ReindexTask | None:
    """The task's state (``GET _tasks/<id>``); ``None`` when the cluster no longer knows it."""
    try:
        answer = await _tasks(client, f"/_tasks/{urllib.parse.quote(task_id, safe=':')}")
    except NotFoundError:
        return None
    return task_of(answer)


def task_of(answer: Mapping[str, Any]) -> ReindexTask:
    """Read a ``GET _tasks/<id>`` answer of a ``_reindex`` task."""
    completed = bool(answer.get("completed"))
    counts: Mapping[str, Any] = answer.get("response") or answer.get("task", {}).get("status", {})
    written = int(counts.get("created", 0)) + int(counts.get("updated", 0))
    problems: list[str] = []
    if completed:
        if "error" in answer:
            error = answer["error"]
            problems.append(f"the task failed: {error.get('type')}: {error.get('reason')}")
        if "response" not in answer and "error" not in answer:
            problems.append("the task finished without a response")
        problems += _response_problems(answer.get("response", {}))
    return ReindexTask(completed, written, int(counts.get("total", 0)), tuple(problems))


def _response_problems(response: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    failures = response.get("failures") or []
    if failures:
        listed = "; ".join(_failure(failure) for failure in failures[:_LISTED])
        more = f" (and {len(failures) - _LISTED} more)" if len(failures) > _LISTED else ""
        problems.append(f"{len(failures)} failures: {listed}{more}")
    if response.get("version_conflicts"):
        problems.append(f"{response['version_conflicts']} version conflicts")
    if response.get("timed_out"):
        problems.append("a request of the task timed out")
    if response.get("canceled"):
        problems.append(f"the task was cancelled: {response['canceled']}")
    return problems


def _failure(failure: Mapping[str, Any]) -> str:
    cause = failure.get("cause") or failure.get("reason") or {}
    what = f"{cause.get('type')}: {cause.get('reason')}" if isinstance(cause, Mapping) else str(cause)
    where = f"document {failure['id']!r}" if "id" in failure else f"shard {failure.get('shard')} of {failure.get('index')!r}"
    return f"{where}: {what}"


async def poll_reindex(
    client: AsyncElasticsearch, task_id: str, on_poll: Callable[[ReindexTask], None]
) -> ReindexTask | None:
    """Poll the task every :data:`POLL_SECONDS` until it completes, calling ``on_poll(task)`` each time.

    Returns:
        The completed task, or ``None`` when the cluster no longer knows it (its node left
        without storing a result): the copy must start over.
    """
    while True:
        task = await reindex_task(client, task_id)
        if task is None or task.completed:
            return task
        on_poll(task)
        await asyncio.sleep(POLL_SECONDS)


async def running_reindex_into(
    client: AsyncElasticsearch, source: str, alias: str, target: str
) -> dict[str, tuple[int, int]]:
    """The running ``_reindex`` tasks from ``source`` into a fence of ``alias`` (by their description,
    ``reindex from [source] to [dest]``), each with the (primary term, seq_no) of the owner whose
    fence it writes through; one into ``target`` by name (started before the copy was fenced) has
    ``(0, 0)``: older than every owner. Sub-tasks of a sliced task are left out (cancelling their
    parent cancels them)."""
    answer = await _tasks(client, "/_tasks", {"actions": "*reindex", "detailed": "true"})
    found: dict[str, tuple[int, int]] = {}
    for node_id, node in answer.get("nodes", {}).items():
        for task in node.get("tasks", {}).values():
            description = str(task.get("description", ""))
            if "parent_task_id" in task or not description.startswith(f"reindex from [{source}] to [") \
                    or not description.endswith("]"):
                continue
            dest = description[len(f"reindex from [{source}] to ["):-1]
            generation = (0, 0) if dest == target else fence_generation(dest, alias)
            if generation is not None:
                found[f"{node_id}:{task['id']}"] = generation
    return dict(sorted(found.items()))


async def missing_reindex_module(client: AsyncElasticsearch) -> list[str]:
    """The nodes that lack the ``reindex`` module (``GET _nodes/plugins``); empty when all have it or
    when the cluster may not be asked (no monitor privilege: ``_reindex`` then answers for itself)."""
    try:
        answer = await client.nodes.info(metric="plugins", filter_path="nodes.*.name,nodes.*.modules.name")
    except AuthorizationException:
        return []
    nodes: Mapping[str, Any] = answer.body.get("nodes", {})
    return sorted(
        str(node.get("name", node_id))
        for node_id, node in nodes.items()
        if "reindex" not in {module.get("name") for module in node.get("modules", [])}
    )
