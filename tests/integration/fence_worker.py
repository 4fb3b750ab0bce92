"""Run ``odm.migrate.apply`` or ``rollback`` with a transform that stops this process (SIGSTOP) inside a page.

Usage: python -m tests.integration.fence_worker ES_URL PREFIX STATE_INDEX apply|rollback
with ``ODM_TEST_STOP_AT_CALL`` set (tests/integration/migrate_models.py). Exits 0 if the call
finished, 3 with the error on stderr if it raised ``MigrationLockedError``.
"""

from __future__ import annotations

import asyncio
import sys

from odm import MigrationLockedError, apply, async_connections, rollback
from odm.testing.isolation import isolated
from tests.integration.migrate_models import PostV1, PostV2, rename_back_pausing, rename_pausing

LEASE_SECONDS = 2


async def main(url: str, prefix: str, state_index: str, call: str) -> int:
    async_connections.create_connection(hosts=[url], request_timeout=30)
    try:
        if call == "apply":
            await apply(
                isolated(PostV2, prefix), transform=rename_pausing, page_size=100, lease_seconds=LEASE_SECONDS,
                state_index=state_index,
            )
        else:
            await rollback(
                isolated(PostV2, prefix), previous=isolated(PostV1, prefix), transform=rename_back_pausing,
                page_size=100, lease_seconds=LEASE_SECONDS, state_index=state_index,
            )
    except MigrationLockedError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 3
    finally:
        await async_connections.get_connection().close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:5])))
