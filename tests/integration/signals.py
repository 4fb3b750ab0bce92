"""Children that must see Ctrl-C: a test suite started in the background has SIGINT ignored.

A shell without job control starts a background command (``cmd &``, ``nohup ... &``) with
SIGINT and SIGQUIT ignored, and an ignored signal stays ignored across fork and exec: a
Python started so installs no KeyboardInterrupt handler, and asyncio none of its own. A
test that sends SIGINT to a child passes ``preexec_fn=sigint_as_default`` so what it checks
does not depend on how the suite was started.
"""

from __future__ import annotations

import signal


def sigint_as_default() -> None:
    """In the child, before exec: SIGINT back to its default action."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
