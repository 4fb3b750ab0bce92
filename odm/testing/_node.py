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
import json
import os
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

from odm.testing._distribution import Distribution, default_cache_root, resolve_distribution
from odm.testing._errors import NodeError, NodeStartError
from odm.testing._http import request_json
from odm.testing._java import find_java_home
from odm.testing._privileges import chown_tree, is_root, unprivileged_ids, world_readable
from odm.testing._process_group import die_with_parent, reap_group, signal_group
from odm.testing._secure import DEFAULT_USERNAME, SecureSetup

__all__ = ["ElasticsearchNode", "NodeInfo", "describe_node", "ensure_node", "node_url_from_env", "secure_node"]

_HEAP = "-Xms512m -Xmx1g"
_PORTS_FILES = ("http.ports", "transport.ports")
_NAME = "odm-test"
_NOT_READABLE = "not readable by user nobody, whom the node runs as"


@dataclass(frozen=True)
class NodeInfo:
    """What tests need to know about a running node.

    Attributes:
        url: base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash);
            ``https://`` for a secure node.
        version: the server's version, e.g. ``9.5.4``.
        modules: names of the server's modules; the throwaway node lacks many
            (see docs/test-node.md), so tests can skip what it cannot do.
        ca_certs: for a secure node, the PEM file of the CA that signed its certificate.
        basic_auth: for a secure node, ``(username, password)`` of its superuser
            (left out of ``repr``).
    """

    url: str
    version: str
    modules: frozenset[str]
    ca_certs: Path | None = None
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``AsyncElasticsearch`` or ``create_connection``: hosts, CA, auth."""
        options: dict[str, Any] = {"hosts": [self.url]}
        if self.ca_certs is not None:
            options["ca_certs"] = str(self.ca_certs)
        if self.basic_auth is not None:
            options["basic_auth"] = self.basic_auth
        return options


def node_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$ODM_ES_URL`` without a trailing slash, or None when unset or empty.

    Setting it makes :func:`ensure_node` (and so the pytest fixtures) use that
    cluster instead of starting a node.
    """
    url = (os.environ if environ is None else environ).get("ODM_ES_URL", "").strip()
    return url.rstrip("/") or None


def describe_node(
    url: str, *, ca_certs: Path | None = None, basic_auth: tuple[str, str] | None = None
) -> NodeInfo:
    """Ask the node at ``url`` for its version and modules (``GET /_nodes/_local/plugins``).

    Args:
        ca_certs: the CA to verify an ``https`` node with (default: the system's).
        basic_auth: ``(username, password)`` for a node with security on.

    Raises:
        NodeError: the node cannot be reached or gives no answer.
    """
    path = "/_nodes/_local/plugins?filter_path=nodes.*.version,nodes.*.modules.name"
    context = None if ca_certs is None else ssl.create_default_context(cafile=str(ca_certs))
    try:
        status, body = request_json("GET", url + path, context=context, basic_auth=basic_auth)
    except (urllib.error.URLError, OSError) as exc:
        raise NodeError(f"cannot reach Elasticsearch at {url}: {exc}") from exc
    if status != 200 or not isinstance(body, dict) or not body.get("nodes"):
        raise NodeError(f"{url}{path} answered {status}: {body}")
    node = next(iter(body["nodes"].values()))
    modules = frozenset(m["name"] for m in node.get("modules", ()))
    return NodeInfo(url, node["version"], modules, ca_certs=ca_certs, basic_auth=basic_auth)


class ElasticsearchNode:
    """A real single-node Elasticsearch in a temporary directory, for tests.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The first start
    fetches and unpacks the server into the cache (see ``resolve_distribution``);
    later starts reuse it without network. As root, the Java process runs as
    ``nobody`` because Elasticsearch refuses to run as root.

    A node can also crash and come back: :meth:`kill` SIGKILLs it and keeps its
    directories, and :meth:`start` then restarts it on the same data. With a
    ``data_dir`` the data also survives :meth:`stop`.

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
        settings: Mapping[str, Any] | None = None,
        data_dir: Path | None = None,
        heap: str | None = None,
        secure: bool = False,
        username: str = DEFAULT_USERNAME,
        password: str | None = None,
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
            settings: ``elasticsearch.yml`` settings merged over the generated ones
                (flat keys such as ``"cluster.name"``; values are written as JSON,
                which YAML reads); a value of None removes a generated setting, e.g.
                ``{"discovery.type": None}``. Kept in :attr:`settings`, read at each start.
            data_dir: a persistent ``path.data``, created if missing and never
                deleted by odm (the default is ``data/`` in the temporary directory,
                deleted by :meth:`stop`). As root it is given to ``nobody``, and its
                parent directories must be traversable by every user.
            heap: the JVM heap, e.g. ``"256m"`` for ``-Xms256m -Xmx256m``; default
                ``-Xms512m -Xmx1g``.
            secure: security on: HTTPS with a certificate from a throwaway CA
                (``trustme``), and a file-realm superuser; :attr:`info` then carries
                ``ca_certs`` and ``basic_auth``. The CA and user are kept across restarts.
            username: the superuser's name (secure nodes only).
            password: the superuser's password; default a random one (secure nodes only).
        """
        self._version = version
        self._cache_dir = cache_dir
        self._java_home = java_home
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self.settings: dict[str, Any] = dict(settings or {})
        self._data_dir = data_dir
        self._heap = _HEAP if heap is None else f"-Xms{heap} -Xmx{heap}"
        self._secure = SecureSetup(username, password) if secure else None
        self._ca_certs: Path | None = None
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

    @property
    def run_dir(self) -> Path | None:
        """The node's temporary directory (config, logs, tmp, and data without ``data_dir``).

        It exists from :meth:`start` until :meth:`stop`, and is kept by :meth:`kill`.
        """
        return self._run_dir

    @property
    def data_dir(self) -> Path | None:
        """Where the node keeps its data (``path.data``): ``data_dir``, else inside :attr:`run_dir`."""
        if self._data_dir is not None:
            return self._data_dir
        return None if self._run_dir is None else self._run_dir / "data"

    @property
    def transport_address(self) -> str | None:
        """``127.0.0.1:PORT`` the node talks to other nodes on, once it has bound it (else None)."""
        return self._published_port("transport.ports")

    def start(self) -> NodeInfo:
        """Start the node and wait until the cluster is yellow.

        After :meth:`kill`, this restarts the node on the same directories and data
        (its HTTP port changes: read :attr:`url` again). If it fails, the node is
        stopped as below, which deletes the temporary directory (not a ``data_dir``).

        Raises:
            DistributionError: the server could not be fetched.
            JavaNotFoundError: no suitable Java runtime.
            NodeStartError: the node died or was not ready within ``startup_timeout``;
                the message ends with the tail of its output.
            NodeError: already started, or a needed path is not readable by ``nobody``.
        """
        self._launch()
        try:
            self._info = self._wait_until_ready(self._is_yellow)
        except BaseException:
            self.stop()
            raise
        return self._info

    def _launch(self) -> None:
        """Spawn the node without waiting for it (what :meth:`start` does first)."""
        if self._proc is not None:
            raise NodeError("this node is already running")
        as_root = is_root()
        environ = os.environ
        dist = resolve_distribution(self._version, self._cache_dir or default_cache_root(environ, as_root=as_root))
        java = self._java_home or find_java_home(environ, usable=_check_readable if as_root else _anyone)
        restart = self._run_dir is not None
        if self._run_dir is None:
            self._run_dir = Path(tempfile.mkdtemp(prefix="odm-es-"))
        run_dir = self._run_dir
        try:
            if as_root:
                for needed in (dist.home, java, run_dir.parent):
                    if not world_readable(needed):
                        raise NodeError(f"{needed} is {_NOT_READABLE}; set ODM_CACHE_DIR, ES_JAVA_HOME or "
                                        "TMPDIR to a directory every user can traverse")
                if self._data_dir is not None:
                    _check_traversable(self._data_dir)
            self._proc = self._spawn(dist, java, run_dir, as_root, restart=restart)
            _register(self)
        except BaseException:
            self.stop()
            raise

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

        SIGTERM first, SIGKILL after ``stop_timeout`` seconds. A ``data_dir`` is kept.
        Safe to call twice, and after :meth:`kill` (it then only deletes).
        """
        proc, self._proc, self._info = self._proc, None, None
        if proc is not None:
            signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
            reap_group(proc.pid, self._stop_timeout)
        _LIVE.discard(self)
        self._close_output()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    def kill(self) -> None:
        """Crash the node: SIGKILL its whole process group, and delete nothing.

        Returns once no process of the group is left. Nothing is flushed or closed
        on the server's side: a process crash (not a power cut: the OS keeps what the
        process had written). The temporary directory and the data stay, so
        :meth:`start` restarts the node on them; :meth:`stop` (also called at
        interpreter exit) deletes the temporary directory. Safe to call when the
        node is not running.
        """
        proc, self._proc, self._info = self._proc, None, None
        if proc is not None:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            reap_group(proc.pid, self._stop_timeout)
        self._close_output()

    def _close_output(self) -> None:
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    def _published_port(self, name: str) -> str | None:
        if self._run_dir is None or self._proc is None:
            return None
        try:
            words = (self._run_dir / "logs" / name).read_text().split()
        except OSError:
            return None
        return words[0] if words else None

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

    def _spawn(
        self, dist: Distribution, java: Path, run_dir: Path, as_root: bool, *, restart: bool
    ) -> subprocess.Popen[bytes]:
        config = run_dir / "config"
        if restart:  # after kill(): same directories; the dead node's port files are stale
            for name in _PORTS_FILES:
                (run_dir / "logs" / name).unlink(missing_ok=True)
        else:
            for sub in ("config", "data", "logs", "tmp"):
                (run_dir / sub).mkdir()
            for name in ("jvm.options", "log4j2.properties"):
                shutil.copyfile(dist.home / "config" / name, config / name)
        data = run_dir / "data" if self._data_dir is None else self._data_dir
        data.mkdir(parents=True, exist_ok=True)
        settings = self.settings
        if self._secure is not None:
            self._ca_certs = self._secure.write(config)
            settings = {**self._secure.settings(), **self.settings}
        (config / "elasticsearch.yml").write_text(_settings_yaml(dist, run_dir, data, settings))
        uid, gid = unprivileged_ids() if as_root else (-1, -1)
        if as_root:
            chown_tree(run_dir, uid, gid)
            if self._data_dir is not None:
                chown_tree(self._data_dir, uid, gid)
        env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "ES_HOME", "CLI_JAVA_OPTS")}
        env.update(ES_JAVA_HOME=str(java), ES_PATH_CONF=str(config), ES_TMPDIR=str(run_dir / "tmp"),
                   ES_JAVA_OPTS=self._heap, HOME=str(run_dir))
        self._stdout = (run_dir / "stdout.log").open("ab")
        if restart:
            self._stdout.write(b"\n---- odm: restarted after kill() ----\n")
            self._stdout.flush()
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
            preexec_fn=die_with_parent if in_main_thread and sys.platform == "linux" else None,
        )

    def _wait_until_ready(self, ready: Callable[[str], bool]) -> NodeInfo:
        """Poll until ``ready(url)``; the node must keep running meanwhile."""
        deadline = time.monotonic() + self._startup_timeout
        while True:
            self._check_running(deadline)
            url = self._http_url()
            if url is not None and ready(url):
                return self._describe(url)
            time.sleep(0.25)

    def _check_running(self, deadline: float) -> None:
        """Raise :class:`NodeStartError` if the node died or ``deadline`` (monotonic) passed."""
        code = None if self._proc is None else self._proc.poll()
        if self._proc is None or code is not None:
            raise NodeStartError(f"Elasticsearch exited with code {code} while starting:\n{self.log_tail()}")
        if time.monotonic() > deadline:
            raise NodeStartError(
                f"Elasticsearch was not ready after {self._startup_timeout:.0f}s:\n{self.log_tail()}"
            )

    def _http_url(self) -> str | None:
        address = self._published_port("http.ports")
        if address is None:
            return None
        return ("https://" if self._secure is not None else "http://") + address

    def _is_yellow(self, url: str) -> bool:
        if self._secure is None:
            return _is_yellow(url)
        return _is_yellow(url, context=self._secure.ssl_context(), basic_auth=self._secure.basic_auth)

    def _describe(self, url: str) -> NodeInfo:
        if self._secure is None:
            return describe_node(url)
        return describe_node(url, ca_certs=self._ca_certs, basic_auth=self._secure.basic_auth)


def _settings_yaml(dist: Distribution, run_dir: Path, data: Path, overrides: Mapping[str, Any]) -> str:
    settings: dict[str, Any] = {
        "cluster.name": _NAME,
        "node.name": _NAME,
        "network.host": "127.0.0.1",
        "http.port": 0,
        "transport.port": 0,
        "node.portsfile": True,
        "discovery.type": "single-node",
        "path.data": str(data),
        "path.logs": str(run_dir / "logs"),
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "action.destructive_requires_name": False,
    }
    if "x-pack-security" in dist.bundled_modules:
        # Otherwise the launcher auto-configures TLS and a keystore with settings
        # that this module-poor distribution then rejects.
        settings["xpack.security.enabled"] = False
    settings.update(overrides)
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items() if value is not None)


def _is_yellow(url: str, *, context: ssl.SSLContext | None = None, basic_auth: tuple[str, str] | None = None) -> bool:
    path = "/_cluster/health?wait_for_status=yellow&timeout=1s"
    try:
        status, body = request_json("GET", url + path, timeout=10, context=context, basic_auth=basic_auth)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return status == 200 and isinstance(body, dict) and body.get("timed_out") is False


def _anyone(_home: Path) -> str | None:
    return None


def _check_traversable(data_dir: Path) -> None:
    """As root: ``nobody`` will own ``data_dir``, but must be able to reach it."""
    for parent in data_dir.resolve().parents:
        if parent.exists() and not parent.stat().st_mode & stat.S_IXOTH:
            raise NodeError(f"data_dir {data_dir}: its parent {parent} is not traversable by user nobody, "
                            "whom the node runs as; put it under a directory every user can traverse")


def _check_readable(home: Path) -> str | None:
    java = home / "bin" / "java"
    return None if world_readable(java) and java.stat().st_mode & stat.S_IXOTH else _NOT_READABLE


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


_secure_shared: NodeInfo | None = None


def secure_node() -> NodeInfo:
    """The process-wide secure test node, started on first call and stopped at interpreter exit.

    Security is on, HTTP is TLS with a certificate from a throwaway CA, and a file-realm
    superuser has a random password: connect with ``**info.client_options()``, or
    ``hosts=[info.url], ca_certs=str(info.ca_certs), basic_auth=info.basic_auth``.
    It has a 256 MB heap and a self-generated trial license (for the token service).
    Thread-safe; ``$ODM_ES_URL`` does not apply to it.

    Raises:
        NodeError: the node could not be started (``trustme`` missing, among others).
    """
    global _secure_shared
    with _shared_lock:
        if _secure_shared is None:
            _secure_shared = ElasticsearchNode(secure=True, heap="256m").start()
        return _secure_shared
