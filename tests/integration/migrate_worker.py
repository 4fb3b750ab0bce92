"""Run ``odm.migrate.apply`` and SIGKILL this very process at a chosen phase (tests of resume).

Usage: python -m tests.integration.migrate_worker ES_URL PREFIX STATE_INDEX PHASE [NTH]
Kills itself at the NTH (default 1) progress event of PHASE; exits 0 if the phase never came.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from odm import Progress, apply, async_connections
from odm.testing.isolation import isolated
from tests.integration.migrate_models import PostV2, rename


async def main(url: str, prefix: str, state_index: str, phase: str, nth: int) -> None:
    async_connections.create_connection(hosts=[url], request_timeout=30)
    seen = 0

    def kill_at_phase(event: Progress) -> None:
        nonlocal seen
        if event.phase == phase:
            seen += 1
            if seen == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    await apply(
        isolated(PostV2, prefix), transform=rename, page_size=50, on_progress=kill_at_phase,
        lease_seconds=1, state_index=state_index,
    )


if __name__ == "__main__":
    url, prefix, state_index, phase = sys.argv[1:5]
    asyncio.run(main(url, prefix, state_index, phase, int(sys.argv[5]) if len(sys.argv) > 5 else 1))
