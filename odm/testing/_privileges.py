"""Running the node as an unprivileged user when this process is root.

Elasticsearch refuses to start as root, so a root caller runs the Java process as
``nobody``; everything that process reads must then be reachable by "others".
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

__all__ = ["chown_tree", "is_root", "unprivileged_ids", "world_readable"]

_GROUP_NAMES = ("nogroup", "nobody")


def is_root() -> bool:
    """Whether this process runs with effective uid 0 (and must drop privileges)."""
    return os.geteuid() == 0


def unprivileged_ids() -> tuple[int, int]:
    """The uid of ``nobody`` and the gid of ``nogroup`` (or ``nobody``)."""
    uid = pwd.getpwnam("nobody").pw_uid
    for name in _GROUP_NAMES:
        try:
            return uid, grp.getgrnam(name).gr_gid
        except KeyError:
            continue
    return uid, pwd.getpwnam("nobody").pw_gid


def world_readable(path: Path) -> bool:
    """Whether any user can reach and read ``path``.

    Every ancestor directory needs the "others" execute bit (``/root`` usually
    lacks it), and ``path`` itself the "others" read bit (and execute bit, if it is a
    directory).
    """
    resolved = path.resolve()
    try:
        mode = os.stat(resolved).st_mode
        needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & needed != needed:
            return False
        return all(os.stat(p).st_mode & stat.S_IXOTH for p in resolved.parents)
    except OSError:
        return False


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give ``root`` and everything below it to ``uid:gid``."""
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
