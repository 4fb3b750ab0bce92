"""The process group of a node: the launcher and the server JVM, signalled and reaped together."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

__all__ = ["die_with_parent", "group_alive", "reap_group", "signal_group"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the starting thread dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def reap_group(pgid: int, grace: float) -> None:
    """Wait for the rest of the group (the server JVM can outlive the launcher); kill stragglers."""
    deadline = time.monotonic() + grace
    while group_alive(pgid):
        if time.monotonic() > deadline:
            signal_group(pgid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is in group ``pgid`` (via /proc where it exists)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if state != "Z" and int(pgrp) == pgid:
            return True
    return False
