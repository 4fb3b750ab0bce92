"""Starting, watching, stopping, crashing and restarting one throwaway Elasticsearch node.

Each node gets a fresh temporary directory holding its config, data, logs and tmp
(the data may instead live in a persistent ``data_dir``); the distribution in the
cache is only read. The node binds 127.0.0.1 on ports the OS picks (Elasticsearch
reports them in ``logs/http.ports``), runs in its own session so the launcher JVM and
the server JVM are stopped together, and is stopped at interpreter exit, on SIGTERM
(turned into ``KeyboardInterrupt`` when nobody else handles it) and, on Linux, when
the thread that started it dies (parent-death signal).
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

from odm.testing._distribution import Distribution, default_cache_root, resolve_distribution
from odm.testing._errors import NodeError, NodeStartError
from odm.testing._http import request_json
from odm.testing._java import find_java_home
from odm.testing._privileges import chown_tree, is_root, unprivileged_ids, world_readable

__all__ = ["ElasticsearchNode", "NodeInfo", "describe_node", "ensure_node", "node_url_from_env"]

_HEAP = "-Xms512m -Xmx1g"
_NAME = "odm-test"
_PR_SET_PDEATHSIG = 1
_NOT_READABLE = "not readable by user nobody, whom the node runs as"


@dataclass(frozen=True)
class NodeInfo:
    """What tests need to know about a running node.

    Attributes:
        url: base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash).
        version: the server's version, e.g. ``9.5.4``.
        modules: names of the server's modules; the throwaway node lacks many
            (see docs/test-node.md), so tests can skip what it cannot do.
    """

    url: str
    version: str
    modules: frozenset[str]


def node_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$ODM_ES_URL`` without a trailing slash, or None when unset or empty.

    Setting it makes :func:`ensure_node` (and so the pytest fixtures) use that
    cluster instead of starting a node.
    """
    url = (os.environ if environ is None else environ).get("ODM_ES_URL", "").strip()
    return url.rstrip("/") or None


def describe_node(url: str) -> NodeInfo:
    """Ask the node at ``url`` for its version and modules (``GET /_nodes/_local/plugins``).

    Raises:
        NodeError: the node cannot be reached or gives no answer.
    """
    path = "/_nodes/_local/plugins?filter_path=nodes.*.version,nodes.*.modules.name"
    try:
        status, body = request_json("GET", url + path)
    except (urllib.error.URLError, OSError) as exc:
        raise NodeError(f"cannot reach Elasticsearch at {url}: {exc}") from exc
    if status != 200 or not isinstance(body, dict) or not body.get("nodes"):
        raise NodeError(f"{url}{path} answered {status}: {body}")
    node = next(iter(body["nodes"].values()))
    return NodeInfo(url, node["version"], frozenset(m["name"] for m in node.get("modules", ())))


class ElasticsearchNode:
    """A real single-node Elasticsearch in a temporary directory, for tests.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The first start
    fetches and unpacks the server into the cache (see ``resolve_distribution``);
    later starts reuse it without network. As root, the Java process runs as
    ``nobody`` because Elasticsearch refuses to run as root.

    Example::

        with ElasticsearchNode() as node:
            print(node.url, node.version, sorted(node.modules))
    """

    def __init__(
        self,
        version: str | None = None,
        *,
        cache_dir: Path | None = None,
        java_home: Path | None = None,
        startup_timeout: float = 120.0,
        stop_timeout: float = 30.0,
    ) -> None:
        """Configure, without starting anything.

        Args:
            version: server version; default ``$ODM_ES_VERSION``, else the newest
                known one matching the installed client's major version.
            cache_dir: distribution cache; default ``$ODM_CACHE_DIR``, else
                ``~/.cache/odm`` (``/var/cache/odm`` as root).
            java_home: Java 21+ home; default found by ``find_java_home``.
            startup_timeout: seconds to wait for the cluster to turn yellow.
            stop_timeout: seconds between SIGTERM and SIGKILL when stopping.
        """
        self._version = version
        self._cache_dir = cache_dir
        self._java_home = java_home
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._run_dir: Path | None = None
        self._info: NodeInfo | None = None

    @property
    def info(self) -> NodeInfo:
        """URL, version and modules of the running node.

        Raises:
            NodeError: the node is not running.
        """
        if self._info is None:
            raise NodeError("the Elasticsearch node is not running; call start() first")
        return self._info

    @property
    def url(self) -> str:
        """Base URL of the running node."""
        return self.info.url

    @property
    def version(self) -> str:
        """Version of the running node."""
        return self.info.version

    @property
    def modules(self) -> frozenset[str]:
        """Module names of the running node."""
        return self.info.modules

    @property
    def pid(self) -> int | None:
        """Process id of the launcher, which leads the node's process group; None if stopped."""
        return None if self._proc is None else self._proc.pid

    def start(self) -> NodeInfo:
        """Start the node and wait until the cluster is yellow.

        Raises:
            DistributionError: the server could not be fetched.
            JavaNotFoundError: no suitable Java runtime.
            NodeStartError: the node died or was not ready within ``startup_timeout``;
                the message ends with the tail of its output.
            NodeError: already started, or a needed path is not readable by ``nobody``.
        """
        if self._proc is not None:
            raise NodeError("this node is already running")
        as_root = is_root()
        environ = os.environ
        dist = resolve_distribution(self._version, self._cache_dir or default_cache_root(environ, as_root=as_root))
        java = self._java_home or find_java_home(environ, usable=_check_readable if as_root else _anyone)
        run_dir = Path(tempfile.mkdtemp(prefix="odm-es-"))
        self._run_dir = run_dir
        try:
            if as_root:
                for needed in (dist.home, java, run_dir.parent):
                    if not world_readable(needed):
                        raise NodeError(f"{needed} is {_NOT_READABLE}; set ODM_CACHE_DIR, ES_JAVA_HOME or "
                                        "TMPDIR to a directory every user can traverse")
            self._proc = self._spawn(dist, java, run_dir, as_root)
            _register(self)
            self._info = self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self._info

    def wait(self) -> int:
        """Block until the node's launcher process exits; return its exit code.

        Raises:
            NodeError: the node is not running.
        """
        if self._proc is None:
            raise NodeError("the Elasticsearch node is not running")
        return self._proc.wait()

    def stop(self) -> None:
        """Stop the node's whole process group and delete its temporary directory.

        SIGTERM first, SIGKILL after ``stop_timeout`` seconds. Safe to call twice.
        """
        proc, self._proc, self._info = self._proc, None, None
        if proc is not None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
            _reap_group(proc.pid, self._stop_timeout)
        _LIVE.discard(self)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the node's console output (empty if none)."""
        if self._run_dir is None:
            return ""
        try:
            text = (self._run_dir / "stdout.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ElasticsearchNode:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, dist: Distribution, java: Path, run_dir: Path, as_root: bool) -> subprocess.Popen[bytes]:
        config = run_dir / "config"
        for sub in ("config", "data", "logs", "tmp"):
            (run_dir / sub).mkdir()
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copyfile(dist.home / "config" / name, config / name)
        (config / "elasticsearch.yml").write_text(_settings_yaml(dist, run_dir))
        uid, gid = unprivileged_ids() if as_root else (-1, -1)
        if as_root:
            chown_tree(run_dir, uid, gid)
        env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "ES_HOME", "CLI_JAVA_OPTS")}
        env.update(ES_JAVA_HOME=str(java), ES_PATH_CONF=str(config), ES_TMPDIR=str(run_dir / "tmp"),
                   ES_JAVA_OPTS=_HEAP, HOME=str(run_dir))
        self._stdout = (run_dir / "stdout.log").open("wb")
        in_main_thread = threading.current_thread() is threading.main_thread()
        return subprocess.Popen(
            [str(dist.home / "bin" / "elasticsearch")],
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=uid if as_root else None,
            group=gid if as_root else None,
            extra_groups=[] if as_root else None,
            preexec_fn=_die_with_parent if in_main_thread and sys.platform == "linux" else None,
        )

    def _wait_until_ready(self) -> NodeInfo:
        assert self._proc is not None and self._run_dir is not None
        ports_file = self._run_dir / "logs" / "http.ports"
        deadline = time.monotonic() + self._startup_timeout
        url: str | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise NodeStartError(f"Elasticsearch exited with code {code} while starting:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"Elasticsearch was not ready after {self._startup_timeout:.0f}s:\n{self.log_tail()}"
                )
            if url is None and ports_file.is_file():
                url = "http://" + ports_file.read_text().split()[0]
            if url is not None and _is_yellow(url):
                return describe_node(url)
            time.sleep(0.25)


def _settings_yaml(dist: Distribution, run_dir: Path) -> str:
    settings: dict[str, Any] = {
        "cluster.name": _NAME,
        "node.name": _NAME,
        "network.host": "127.0.0.1",
        "http.port": 0,
        "transport.port": 0,
        "node.portsfile": True,
        "discovery.type": "single-node",
        "path.data": str(run_dir / "data"),
        "path.logs": str(run_dir / "logs"),
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "action.destructive_requires_name": False,
    }
    if "x-pack-security" in dist.bundled_modules:
        # Otherwise the launcher auto-configures TLS and a keystore with settings
        # that this module-poor distribution then rejects.
        settings["xpack.security.enabled"] = False
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())


def _is_yellow(url: str) -> bool:
    try:
        status, body = request_json("GET", f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=10)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return status == 200 and isinstance(body, dict) and body.get("timed_out") is False


def _anyone(_home: Path) -> str | None:
    return None


def _check_readable(home: Path) -> str | None:
    java = home / "bin" / "java"
    return None if world_readable(java) and java.stat().st_mode & stat.S_IXOTH else _NOT_READABLE


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the starting thread dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _reap_group(pgid: int, grace: float) -> None:
    """Wait for the rest of the group (the server JVM can outlive the launcher); kill stragglers."""
    deadline = time.monotonic() + grace
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            _signal_group(pgid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
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


_LIVE: set[ElasticsearchNode] = set()
_hooks_installed = False


def _register(node: ElasticsearchNode) -> None:
    global _hooks_installed
    _LIVE.add(node)
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_all() -> None:
    for node in list(_LIVE):
        node.stop()


_shared_lock = threading.Lock()
_shared: NodeInfo | None = None


def ensure_node() -> NodeInfo:
    """The process-wide test node: ``$ODM_ES_URL`` if set, else one started on first call.

    A started node lives until interpreter exit. Thread-safe; later calls return the
    same :class:`NodeInfo` without network.

    Raises:
        NodeError: the node could not be started, or ``$ODM_ES_URL`` does not answer.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            url = node_url_from_env()
            _shared = describe_node(url) if url is not None else ElasticsearchNode().start()
        return _shared
