"""Run ``odm.migrate.apply`` or ``rollback`` with a transform that stops this process (SIGSTOP) inside a page.

Usage: python -m tests.integration.fence_worker ES_URL PREFIX STATE_INDEX CALL
with ``ODM_TEST_STOP_AT_CALL`` set (tests/integration/migrate_models.py). CALL is ``apply``,
``apply-changing`` (a user changes ``p5`` and adds ``late`` during the first page of the
copy, so the catch-up writes them again), ``rollback``, or one that stops at a progress
event instead: ``apply-paused-at-block`` and ``rollback-paused-at-block`` (the write block
added; continued, the progress callback raises, so the call lifts its block on the way out),
``apply-paused-at-verify`` (the catch-up verified, the swap next). Exits 0 if the call
finished, 3 with the error on stderr if it raised ``MigrationLockedError``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request

from odm import MigrationLockedError, Progress, apply, async_connections, rollback
from odm.testing.isolation import isolated
from tests.integration.migrate_models import PostV1, PostV2, rename_back_pausing, rename_pausing

LEASE_SECONDS = 2


class Interrupted(Exception):
    """A progress callback failing after the pause (a user's callback, an interrupt)."""


def pause_at(call: str) -> tuple[str | None, bool]:
    """The progress event at which ``call`` stops itself, and whether its callback then raises."""
    _, paused, phase = call.partition("-paused-at-")
    return (phase, phase == "block") if paused else (None, False)


async def main(url: str, prefix: str, state_index: str, call: str) -> int:
    async_connections.create_connection(hosts=[url], request_timeout=30)
    alias = isolated(PostV2, prefix).index_name()
    changed = False

    stop_at, then_raise = pause_at(call)

    def user_writes(event: Progress) -> None:  # a user of the old index, during the copy
        nonlocal changed
        if event.phase == stop_at:
            os.kill(os.getpid(), signal.SIGSTOP)
            if then_raise:
                raise Interrupted(f"the progress callback failed at {event.phase}")
        if event.phase == "copy" and call == "apply-changing" and not changed:
            changed = True
            for path, body in ((f"{alias}/_update/p5", {"doc": {"views": 5000}}), (f"{alias}/_doc/late", {"name": "late"})):
                request = urllib.request.Request(
                    f"{url}/{path}", json.dumps(body).encode(), {"content-type": "application/json"}, method="POST"
                )
                urllib.request.urlopen(request, timeout=30).close()

    try:
        if call.startswith("apply"):
            await apply(
                isolated(PostV2, prefix), transform=rename_pausing, page_size=100, lease_seconds=LEASE_SECONDS,
                state_index=state_index, on_progress=user_writes,
            )
        else:
            await rollback(
                isolated(PostV2, prefix), previous=isolated(PostV1, prefix), transform=rename_back_pausing,
                page_size=100, lease_seconds=LEASE_SECONDS, state_index=state_index, on_progress=user_writes,
            )
    except MigrationLockedError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 3
    finally:
        await async_connections.get_connection().close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
