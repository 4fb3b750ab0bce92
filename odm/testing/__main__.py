"""``python -m odm.testing``: run a throwaway Elasticsearch node until Ctrl-C or SIGTERM.

Prints shell-style lines once the node is ready, e.g.::

    ODM_ES_URL=http://127.0.0.1:40123
    ODM_ES_VERSION=9.5.4
    ODM_ES_MODULES=apm,transport-netty4,x-pack-core,x-pack-security

so another shell can ``export ODM_ES_URL=...`` and run the tests against it.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from odm.testing._node import ElasticsearchNode


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start a node, print its URL, version and modules, and stop it on SIGINT/SIGTERM."""
    signal.signal(signal.SIGTERM, _interrupt)
    node = ElasticsearchNode()
    try:
        with node:
            print(f"ODM_ES_URL={node.url}", flush=True)
            print(f"ODM_ES_VERSION={node.version}", flush=True)
            print(f"ODM_ES_MODULES={','.join(sorted(node.modules))}", flush=True)
            code = node.wait()
            print(f"Elasticsearch exited by itself with code {code}:\n{node.log_tail()}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
